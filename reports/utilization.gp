# utilization.gp: how busy the world is: utilization of all.q by month, the
# TSUBAME report's Figure 4 measure (occupied node-seconds over the month's
# node-seconds outside maintenance; the engine's batch.by_month), with all
# nodes in all.q (baseline) and without the interactive nodes (the
# reference point).  Lines: median over the seeds; bands: their range;
# dotted: the report's figures (over 80% for the year, over 96% at the peak).
# In:  datafile (index, month, baseline % median, min, max, reference %
#      median, min, max, maintenance h), scenario, label, seeds.
load scriptdir."/mn-report-common.gp"
set title sprintf("Utilization of all.q by month, the report's Figure 4 measure (%s%s)", scenario, seeds > 1 ? sprintf(", %d seeds", seeds) : "")
set xlabel "month"
set ylabel "utilization of all.q (%)"
set yrange [0:105]
set xtics rotate by -45
set rmargin 6
set key below box vertical maxrows 2
# room under the x label for the key (gnuplot does not make it)
set bmargin 8
set style fill transparent solid 0.2 noborder
set arrow from graph 0, first 80 to graph 1, first 80 nohead dt 3 lc rgb "black"
set arrow from graph 0, first 96 to graph 1, first 96 nohead dt 3 lc rgb "black"
set label "80%" at graph 0.005, first 80 offset 0,0.5 font ",8"
set label "96%" at graph 0.005, first 96 offset 0,0.5 font ",8"
plot datafile using 1:4:5 with filledcurves lc rgb "#7f7f7f" notitle, \
     ''       using 1:7:8 with filledcurves lc rgb "#d62728" notitle, \
     ''       using 1:3:xtic(2) with linespoints lw 2 pt 7 lc rgb "#7f7f7f" title "all nodes in all.q (baseline)", \
     ''       using 1:6 with linespoints lw 2 pt 5 lc rgb "#d62728" title sprintf("without the interactive nodes, %s", label)
