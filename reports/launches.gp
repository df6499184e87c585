# launches.gp: interactive launches per hour of day, weekdays and weekends
# (the TSUBAME report's Figures 5 and 8); the bars are the median over the
# seeds, the whiskers their range.
# In:  datafile (hour, weekday launches/day median, min, max, weekend median,
#      min, max), scenario, seeds.
load scriptdir."/mn-report-common.gp"
set title sprintf("Interactive launches per hour of day (%s%s)", scenario, seeds > 1 ? sprintf(", median and range over %d seeds", seeds) : "")
set xlabel "hour of day (local time, h)"
set ylabel "launches per day (requests/day)"
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:*]
set xtics 0,2,23
plot datafile using 2:3:4:xtic(1) title "weekday" lc rgb "#1f77b4", \
     ''       using 5:6:7 title "weekend" lc rgb "#ff7f0e"
