# wait-cdf.gp: cumulative distribution of the interactive wait, baseline (no
# interactive.q) against the recommended configuration.
# In:  datafile (share of requests, baseline wait s, recommended wait s), scenario, label.
load scriptdir."/mn-report-common.gp"
set title sprintf("Interactive wait time, cumulative distribution (%s)", scenario)
set xlabel "wait before the session starts (s, log scale; 0 s drawn at 1 s)"
set ylabel "share of interactive requests (%)"
set logscale x 10
set xrange [0.8:*]
set yrange [0:101]
set key below box vertical maxrows 2
plot datafile using ($2 < 1 ? 1 : $2):($1*100) with steps lw 2 lc rgb "#7f7f7f" title "baseline: interactive jobs in all.q", \
     ''       using ($3 < 1 ? 1 : $3):($1*100) with steps lw 2 lc rgb "#2ca02c" title label
