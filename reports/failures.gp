# failures.gp: what goes wrong for interactive sessions, by nodes carved out
# (the recommended point's other parameters): OOM kills, GPU memory
# allocation failures (GPU memory is first come, first served) and requests
# refused for lack of room (the per-user limit's refusals left out).  Bars:
# median over the seeds; whiskers: their range.
# In:  datafile (nodes, OOM median, min, max, GPU median, min, max, refused
#      median, min, max, cap kills median, min, max, x label), label,
#      recnodes, seeds.
load scriptdir."/mn-report-common.gp"
set title sprintf("Sessions killed, GPU allocation failures, refusals (%s%s)", scenario, seeds > 1 ? sprintf(", median and range over %d seeds", seeds) : "")
set xlabel "nodes carved out for interactive.q (nodes)"
set ylabel "sessions over the trace (count)"
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:*]
set key below box horizontal maxcols 2
# room under the x label for the key (gnuplot does not make it)
set bmargin 6
plot datafile using 2:3:4:xtic(14) title "killed by a node's OOM killer" lc rgb "#d62728", \
     ''       using 11:12:13 title "killed by their memory cap" lc rgb "#ff7f0e", \
     ''       using 5:6:7 title "GPU memory allocation failed" lc rgb "#9467bd", \
     ''       using 8:9:10 title "refused for lack of room" lc rgb "#8c564b"
