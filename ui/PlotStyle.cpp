// See PlotStyle.h.
#include "ui/PlotStyle.h"

#include "ui/QCustomPlotInclude.h"

namespace ei {

void applyDarkPlotStyle(QCustomPlot* plot)
{
    const QColor background(0x1d, 0x1f, 0x23), axisColour(0x9a, 0xa0, 0xa8);
    plot->setBackground(background);
    for (QCPAxis* axis : {plot->xAxis, plot->yAxis, plot->xAxis2, plot->yAxis2}) {
        axis->setBasePen(QPen(axisColour));
        axis->setTickPen(QPen(axisColour));
        axis->setSubTickPen(QPen(axisColour));
        axis->setTickLabelColor(axisColour);
        axis->setLabelColor(axisColour);
        axis->grid()->setPen(QPen(QColor(0x33, 0x36, 0x3b), 1, Qt::DotLine));
    }
    plot->legend->setBrush(QColor(0x26, 0x28, 0x2d, 230));
    plot->legend->setBorderPen(QPen(QColor(0x40, 0x44, 0x4a)));
    plot->legend->setTextColor(QColor(0xd8, 0xdb, 0xe0));
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i)
        if (auto* title = qobject_cast<QCPTextElement*>(plot->plotLayout()->elementAt(i)))
            title->setTextColor(QColor(0xd8, 0xdb, 0xe0));
}

}  // namespace ei
