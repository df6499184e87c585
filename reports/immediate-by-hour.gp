# immediate-by-hour.gp: share of interactive requests started immediately,
# hour by hour (of those the queue could serve: the per-user limit's
# refusals left out, as in the target), for the recommendation and the next
# smaller configuration: how much room the answer has.  Points: median over
# the seeds; bars: their range; dashed: the target.
# In:  datafile (hour, reference median, min, max, next smaller median, min,
#      max; %), label, nextlabel, target (% or NaN), ymin, seeds.
load scriptdir."/mn-report-common.gp"
set title sprintf("Started immediately, by hour of day (%s%s)", scenario, seeds > 1 ? sprintf(", median and range over %d seeds", seeds) : "")
set xlabel "hour of day the request was made (local time, h)"
set ylabel "started immediately (% of requests)"
set xrange [-0.5:23.5]
set xtics 0,2,23
set yrange [ymin:100.5]
set key below box vertical maxrows 3
# room under the x label for the key (gnuplot does not make it)
set bmargin 7
if (target == target) {
    set arrow from graph 0, first target to graph 1, first target nohead dt 2 lw 1.5 lc rgb "black"
}
plot datafile using ($1-0.12):2:3:4 with yerrorbars pt 7 ps 1 lw 1.5 lc rgb "#2ca02c" title label, \
     ''       using ($1+0.12):(nextlabel ne "" ? $5 : NaN):6:7 with yerrorbars pt 5 ps 1 lw 1.5 lc rgb "#ff7f0e" title (nextlabel ne "" ? nextlabel : ""), \
     NaN with lines dt 2 lw 1.5 lc rgb "black" title (target == target ? sprintf("target: at least %g%% in every hour", target) : "")
