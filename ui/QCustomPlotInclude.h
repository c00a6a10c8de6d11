// The one way to include QCustomPlot: Debian's qcustomplot.h uses the Qt keywords
// signals / slots / foreach, which QT_NO_KEYWORDS (needed beside LibTorch) turns off.
#pragma once

#define signals Q_SIGNALS
#define slots Q_SLOTS
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef slots
#undef foreach
