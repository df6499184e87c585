# mn-report-common.gp: what every report plot shares.  Called with
#   term = "pngcairo" | "svg", outfile = "...".
if (term eq "svg") {
    set terminal svg size 900,520 dynamic noenhanced font "sans,12" background rgb "white"
} else {
    set terminal pngcairo size 900,520 noenhanced font "sans,10" background rgb "white"
}
set output outfile
set datafile separator "\t"
set datafile missing "NaN"
set key outside right top box
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
