# validation.gp: the replay against the log.  For a trace with logged start
# times (SWF, Grid Engine, sacct), the batch waits the replay (EASY, or
# FCFS) gives against the ones the site's own scheduler gave, month by
# month, for the same jobs (the engine's batch.by_month[].logged), on the
# baseline (every node in all.q, as the site ran).
# In:  datafile (index, month, logged mean, median, p95, replayed mean,
#      median, p95 in h, jobs), scenario.
load scriptdir."/mn-report-common.gp"
set title sprintf("Replayed against logged batch waits, by month (%s)\nblack: the log; blue: the replay", scenario)
set xlabel "month of submission"
set ylabel "batch wait (h, log scale; under 1 min drawn at 1 min)"
set logscale y 10
set yrange [1/60.0:*]
lo(v) = v < 1/60.0 ? 1/60.0 : v
set xtics rotate by -45
set rmargin 6
set key below box horizontal maxcols 3
# room under the x label for the key (gnuplot does not make it)
set bmargin 8
plot datafile using 1:(lo($5)):xtic(2) with linespoints lw 2 pt 7 lc rgb "black" notitle, \
     ''       using 1:(lo($3)) with linespoints lw 2 dt 2 pt 6 lc rgb "black" notitle, \
     ''       using 1:(lo($4)) with lines lw 1.5 dt 3 lc rgb "black" notitle, \
     ''       using 1:(lo($8)) with linespoints lw 2 pt 7 lc rgb "#1f77b4" notitle, \
     ''       using 1:(lo($6)) with linespoints lw 2 dt 2 pt 6 lc rgb "#1f77b4" notitle, \
     ''       using 1:(lo($7)) with lines lw 1.5 dt 3 lc rgb "#1f77b4" notitle, \
     NaN with lines lw 2 lc rgb "#555555" title "95th percentile", \
     NaN with lines lw 2 dt 2 lc rgb "#555555" title "mean", \
     NaN with lines lw 1.5 dt 3 lc rgb "#555555" title "median"
