# heatmap.gp: the sweep as a heat map, nodes carved out x jobs per logical
# node, one metric (median over the seeds) as colour and text; the
# recommendation circled.
# In:  datafile (x index, y index, value, three lines of label text),
#      markfile (x, y),
#      xtics_spec, ytics_spec ('("1" 0, "2" 1)'), what (the metric, with
#      unit), plottitle, palette ("good-high" or "good-low"), cbmin, cbmax
#      (the colour scale), scenario, seeds.
load scriptdir."/mn-report-common.gp"
set title sprintf("%s (%s)\nother swept parameters as at the recommended point%s", plottitle, scenario, seeds > 1 ? sprintf("; median over %d seeds", seeds) : "")
set xlabel "nodes carved out for interactive.q (nodes)"
set ylabel "jobs per logical node (jobs)"
set cblabel what
set cbrange [cbmin:cbmax]
set grid noytics
eval "set xtics ".xtics_spec
eval "set ytics ".ytics_spec
set xrange [-0.5:xmax+0.5]
set yrange [-0.5:ymax+0.5]
if (palette eq "good-high") {
    set palette defined (0 "#b2182b", 50 "#fddbc7", 90 "#f7f7f7", 100 "#2166ac")
} else {
    set palette defined (0 "#f7f7f7", 30 "#fddbc7", 100 "#b2182b")
}
set key at screen 0.99, 0.99 right top box
plot datafile using 1:2:3 with image notitle, \
     ''       using 1:($2 - 0.14):4 with labels font ",10" notitle, \
     ''       using 1:($2 - 0.27):5 with labels font ",8" notitle, \
     ''       using 1:($2 - 0.40):6 with labels font ",8" notitle, \
     markfile using 1:2 with points pt 6 ps 4 lw 3 lc rgb "black" title "recommended"
