# launches.gp: interactive launches per hour of day, weekdays and weekends
# (the TSUBAME report's Figures 5 and 8).
# In:  datafile (hour, weekday launches per day, weekend launches per day), scenario.
load scriptdir."/mn-report-common.gp"
set title sprintf("Interactive launches per hour of day (%s)", scenario)
set xlabel "hour of day (local time, h)"
set ylabel "launches per day (requests/day)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:*]
set xtics 0,2,23
plot datafile using 2:xtic(1) title "weekday" lc rgb "#1f77b4", \
     ''       using 3 title "weekend" lc rgb "#ff7f0e"
