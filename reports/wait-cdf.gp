# wait-cdf.gp: cumulative distribution of the interactive wait over ALL
# requests: the baseline (no interactive.q), the reference point (the
# recommendation) and the next smaller configuration.  A curve that stops
# below 100% is the share refused (or never started), shown by a dotted line;
# the key says how much and why.  Thick: the median over the seeds; thin: the seeds' range.
# In:  datafile (for each of the three: share of all requests %, wait s
#      median, min, max), label, nextlabel, refused, nextrefused,
#      baserefused, started, nextstarted (% of requests started), ymin (the
#      y axis starts there), seeds.
load scriptdir."/mn-report-common.gp"
set title sprintf("Interactive wait time, cumulative over all requests (%s%s)", scenario, seeds > 1 ? sprintf(", %d seeds", seeds) : "")
set xlabel "wait before the session starts (s, log scale; 0 s drawn at 1 s)"
set ylabel "share of interactive requests started within the wait (%)"
set logscale x 10
set xrange [0.8:*]
set yrange [ymin:101]
set key below box vertical maxrows 3
# room under the x label for the key (gnuplot does not make it)
set bmargin 7
# the level each curve tops out at: above it, the share refused (its key
# entry says how much, and why)
if (started < 99.95) {
    set arrow from graph 0, first started to graph 1, first started nohead dt 3 lw 1.5 lc rgb "#2ca02c"
}
if (nextlabel ne "" && nextstarted < 99.95 && nextstarted != started) {
    set arrow from graph 0, first nextstarted to graph 1, first nextstarted nohead dt 3 lw 1.5 lc rgb "#ff7f0e"
}
plot datafile using 2:1 with steps lw 3 lc rgb "#7f7f7f" title sprintf("baseline: interactive jobs in all.q; %s", baserefused), \
     ''       using 3:1 with steps lw 1 dt 2 lc rgb "#7f7f7f" notitle, \
     ''       using 4:1 with steps lw 1 dt 2 lc rgb "#7f7f7f" notitle, \
     ''       using 10:(nextlabel ne "" ? $9 : NaN) with steps lw 2 lc rgb "#ff7f0e" title (nextlabel ne "" ? sprintf("%s; %s", nextlabel, nextrefused) : ""), \
     ''       using 6:5 with steps lw 3 lc rgb "#2ca02c" title sprintf("%s; %s", label, refused), \
     ''       using 7:5 with steps lw 1 dt 2 lc rgb "#2ca02c" notitle, \
     ''       using 8:5 with steps lw 1 dt 2 lc rgb "#2ca02c" notitle
