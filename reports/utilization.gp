# utilization.gp: utilization of all.q by day with all nodes (baseline) and
# without the interactive nodes (recommended) (the report's Figure 4).
# In:  datafile (day, baseline %, recommended %), scenario, label.
load scriptdir."/mn-report-common.gp"
set title sprintf("Utilization of all.q by day (%s)", scenario)
set xlabel "day of the trace (days)"
set ylabel "utilization of all.q (%)"
set yrange [0:105]
set key below box vertical maxrows 2
plot datafile using 1:2 with lines lw 2 lc rgb "#7f7f7f" title "all nodes in all.q (baseline)", \
     ''       using 1:3 with lines lw 2 lc rgb "#d62728" title sprintf("without the interactive nodes, %s", label)
