# batch-cost.gp: what interactive.q costs batch users over the year: their
# mean wait above the baseline (0 nodes) against the nodes carved out, the
# recommended point's other parameters; line: median over the seeds, band:
# their range; dashed: the target.
# In:  datafile (nodes, increase % median, min, max, mean wait h median, min,
#      max), recnodes, target (% or NaN), scenario, seeds.
load scriptdir."/mn-report-common.gp"
set title sprintf("Batch cost of interactive.q (%s%s)", scenario, seeds > 1 ? sprintf(", median and range over %d seeds", seeds) : "")
set xlabel "nodes carved out for interactive.q (nodes; 0 = baseline)"
set ylabel "batch mean wait above the baseline (%)"
set xrange [-0.3:*]
set xtics 1
set format x "%.0f"
set key below box vertical maxrows 2
# room under the x label for the key (gnuplot does not make it)
set bmargin 6
set style fill transparent solid 0.2 noborder
set arrow from recnodes, graph 0 to recnodes, graph 1 nohead dt 3 lc rgb "black"
if (target == target) {
    set arrow from graph 0, first target to graph 1, first target nohead dt 2 lw 1.5 lc rgb "black"
}
plot datafile using 1:3:4 with filledcurves lc rgb "#1f77b4" notitle, \
     ''       using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "batch mean wait above the baseline", \
     NaN with lines dt 2 lw 1.5 lc rgb "black" title (target == target ? sprintf("target: at most +%g%%", target) : ""), \
     NaN with lines dt 3 lc rgb "black" title "recommended"
