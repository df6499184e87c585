# occupancy.gp: interactive.q's own occupancy by hour of day on weekdays:
# running sessions as a share of its slots (nodes x logical nodes x jobs per
# logical node), the mean over the year and the peak; line: median over the
# seeds, band: their range.
# In:  datafile (hour, mean % median, min, max, peak % median, min, max),
#      label, seeds.
load scriptdir."/mn-report-common.gp"
set title sprintf("interactive.q occupancy by hour of day, weekdays (%s%s)", scenario, seeds > 1 ? sprintf("; lines: median over %d seeds, bands: their range", seeds) : "")
set xlabel "hour of day (local time, h)"
set ylabel "running sessions (% of the slots)"
set xrange [0:23]
set xtics 0,2,23
set yrange [0:105]
set key below box vertical maxrows 2
# room under the x label for the key (gnuplot does not make it)
set bmargin 6
set style fill transparent solid 0.2 noborder
plot datafile using 1:6:7 with filledcurves lc rgb "#d62728" notitle, \
     ''       using 1:5 with linespoints lw 2 pt 5 lc rgb "#d62728" title sprintf("peak over the year, %s", label), \
     ''       using 1:3:4 with filledcurves lc rgb "#1f77b4" notitle, \
     ''       using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title sprintf("mean, %s", label)
