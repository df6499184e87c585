# batch-cost.gp: what a design costs batch work: the batch mean wait above
# the baseline (no interactive service: interactive jobs queue in all.q)
# against the nodes carved out, in the reference point's design (dedicated,
# oversubscribe or hybrid, named in the title) with its other parameters;
# line: median over the seeds, band: their range; dashed: the target.
# In:  datafile (nodes, increase % median, min, max, mean wait h median, min,
#      max), recnodes, target (% or NaN), design, scenario, seeds.
load scriptdir."/mn-report-common.gp"
set title sprintf("Cost to batch work, %s design (%s%s)", design, scenario, seeds > 1 ? sprintf(", median and range over %d seeds", seeds) : "")
set xlabel "nodes carved out of all.q (0 = baseline: interactive jobs queue as batch jobs)"
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
