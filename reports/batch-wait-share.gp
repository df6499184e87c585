# batch-wait-share.gp: share of batch jobs that waited an hour or more, and
# 24 hours or more, by month of submission, without and with interactive.q
# (the report's "jobs waited 24 h or more").  Lines: median over the seeds;
# bands: their range.
# In:  datafile (index, month, baseline >= 1 h median, min, max, >= 24 h
#      median, min, max, then the same for the reference point; %), label,
#      seeds.
load scriptdir."/mn-report-common.gp"
set title sprintf("Batch jobs that waited long, by month (%s%s)\ngrey: the baseline (all nodes in all.q); red: %s", scenario, seeds > 1 ? sprintf("; lines: median over %d seeds, bands: their range", seeds) : "", label)
set xlabel "month of submission"
set ylabel "batch jobs (% of the month's jobs)"
set yrange [0:*]
set xtics rotate by -45
set rmargin 6
set key below box horizontal maxcols 2
# room under the x label for the key (gnuplot does not make it)
set bmargin 7
set style fill transparent solid 0.15 noborder
plot datafile using 1:4:5 with filledcurves lc rgb "#7f7f7f" notitle, \
     ''       using 1:10:11 with filledcurves lc rgb "#d62728" notitle, \
     ''       using 1:13:14 with filledcurves lc rgb "#d62728" notitle, \
     ''       using 1:7:8 with filledcurves lc rgb "#7f7f7f" notitle, \
     ''       using 1:3:xtic(2) with linespoints lw 2 pt 7 lc rgb "#7f7f7f" notitle, \
     ''       using 1:6 with linespoints lw 2 dt 2 pt 5 lc rgb "#7f7f7f" notitle, \
     ''       using 1:9 with linespoints lw 2 pt 7 lc rgb "#d62728" notitle, \
     ''       using 1:12 with linespoints lw 2 dt 2 pt 5 lc rgb "#d62728" notitle, \
     NaN with linespoints lw 2 pt 7 lc rgb "black" title "waited 1 h or more", \
     NaN with linespoints lw 2 dt 2 pt 5 lc rgb "black" title "waited 24 h or more"
