# batch-cost.gp: what interactive.q costs batch users: mean wait and mean
# bounded slowdown of batch jobs against the nodes carved out (0 = baseline).
# In:  datafile (nodes, mean wait h, mean bounded slowdown), scenario, recnodes,
#      xstep (tic spacing, nodes).
load scriptdir."/mn-report-common.gp"
set title sprintf("Batch cost of interactive.q (%s)", scenario)
set xlabel "nodes carved out for interactive.q (nodes; 0 = baseline)"
set ylabel "batch mean wait (h)"
set y2label "batch mean bounded slowdown (tau = 10 s, ratio)"
set y2tics
set yrange [0:*]
set y2range [0:*]
set xrange [-0.5:*]
set xtics xstep
set format x "%.0f"
set arrow from recnodes, graph 0 to recnodes, graph 1 nohead dt 2 lc rgb "black"
plot datafile using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "mean wait", \
     ''       using 1:3 axes x1y2 with linespoints lw 2 pt 5 lc rgb "#ff7f0e" title "mean bounded slowdown", \
     NaN with lines dt 2 lc rgb "black" title "recommended"
