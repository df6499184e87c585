# designs.gp: the three designs of issue 19 on one plot: every point of the
# sweep, what it costs batch users (their mean wait above the baseline,
# x) against the share started at once in the worst hour of day (y);
# median over the seeds, bars: their range.  Labels: interactive.q nodes
# (dedicated), xN (over-subscription, at most N per batch node), nodes+xN
# (hybrid).  Dashed: the targets.
# In:  datafile (design index, increase % median, min, max, worst-hour %
#      median, min, max, node-hours lost median, min, max, label), target
#      (batch wait increase %, or NaN), imm (worst-hour target %, or NaN),
#      scenario, seeds.
load scriptdir."/mn-report-common.gp"
set title sprintf("Dedicated, over-subscribed and hybrid designs (%s%s)", scenario, seeds > 1 ? sprintf(", median and range over %d seeds", seeds) : "")
set xlabel "batch mean wait above the baseline (%)"
set ylabel "started at once in the worst hour of day (%)"
set key below box horizontal
set bmargin 6
if (target == target) {
    set arrow from first target, graph 0 to first target, graph 1 nohead dt 2 lw 1.5 lc rgb "black"
}
if (imm == imm) {
    set arrow from graph 0, first imm to graph 1, first imm nohead dt 2 lw 1.5 lc rgb "black"
}
sel(d, v) = (column(1) == d ? v : NaN)
# hybrids first: where interactive.q alone has room they coincide with the
# dedicated point, which is drawn over them
plot datafile using (sel(2, $2)):5:3:4:6:7 with xyerrorbars pt 4 ps 1.8 lw 1.5 lc rgb "#2ca02c" title "hybrid (nodes+xN)", \
     ''       using (sel(0, $2)):5:3:4:6:7 with xyerrorbars pt 7 ps 1.2 lc rgb "#1f77b4" title "dedicated interactive.q (nodes)", \
     ''       using (sel(1, $2)):5:3:4:6:7 with xyerrorbars pt 9 ps 1.6 lc rgb "#d62728" title "over-subscribed batch nodes (xN)", \
     ''       using (sel(0, $2)):5:11 with labels offset 0.8,0.6 font ",8" tc rgb "#1f77b4" notitle, \
     ''       using (sel(1, $2)):5:11 with labels offset 0.8,-0.6 font ",8" tc rgb "#d62728" notitle, \
     ''       using (sel(2, $2)):5:11 with labels offset -1.5,-0.6 font ",8" tc rgb "#2ca02c" notitle
