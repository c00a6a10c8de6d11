// The dark chart style every QCustomPlot of the viewer uses (prediction panel, wizard),
// matching the dark theme: background, axes, grid, legend, and the axes' second pair
// where a chart shows it.
#pragma once

class QCustomPlot;

namespace ei {

void applyDarkPlotStyle(QCustomPlot* plot);

}  // namespace ei
