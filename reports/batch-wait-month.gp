# batch-wait-month.gp: what interactive.q costs batch users, month by
# month: the batch wait distribution (mean, median, 95th percentile) in the
# baseline (all nodes in all.q) and with the reference point's nodes carved
# out.  Lines: median over the seeds; bands: their range.
# In:  datafile (index, month, baseline mean/median/p95 each median, min, max in
#      h, then the same for the reference point; the engine's batch.by_month),
#      label, seeds.
load scriptdir."/mn-report-common.gp"
set title sprintf("Batch wait by month, with and without interactive.q (%s%s)\ngrey: the baseline (all nodes in all.q); red: %s", scenario, seeds > 1 ? sprintf("; lines: median over %d seeds, bands: their range", seeds) : "", label)
set xlabel "month of submission"
set ylabel "batch wait (h, log scale; under 1 min drawn at 1 min)"
set logscale y 10
set yrange [1/60.0:*]
# a wait under a minute (often 0 s) sits on the bottom line
lo(v) = v < 1/60.0 ? 1/60.0 : v
set xtics rotate by -45
set rmargin 6
set key below box horizontal maxcols 3
# room under the x label for the key (gnuplot does not make it)
set bmargin 8
set style fill transparent solid 0.15 noborder
plot datafile using 1:(lo($10)):(lo($11)) with filledcurves lc rgb "#7f7f7f" notitle, \
     ''       using 1:(lo($19)):(lo($20)) with filledcurves lc rgb "#d62728" notitle, \
     ''       using 1:(lo($9)):xtic(2) with linespoints lw 2 pt 7 lc rgb "#7f7f7f" notitle, \
     ''       using 1:(lo($3)) with linespoints lw 2 dt 2 pt 6 lc rgb "#7f7f7f" notitle, \
     ''       using 1:(lo($6)) with lines lw 1.5 dt 3 lc rgb "#7f7f7f" notitle, \
     ''       using 1:(lo($18)) with linespoints lw 2 pt 7 lc rgb "#d62728" notitle, \
     ''       using 1:(lo($12)) with linespoints lw 2 dt 2 pt 6 lc rgb "#d62728" notitle, \
     ''       using 1:(lo($15)) with lines lw 1.5 dt 3 lc rgb "#d62728" notitle, \
     NaN with lines lw 2 lc rgb "black" title "95th percentile", \
     NaN with lines lw 2 dt 2 lc rgb "black" title "mean", \
     NaN with lines lw 1.5 dt 3 lc rgb "black" title "median"
