#pragma once

// QCustomPlot's header uses Qt's keyword macros (signals, slots, emit, foreach), which this
// project turns off (QT_NO_KEYWORDS, because they break LibTorch headers). Include QCustomPlot
// through this header: it defines them for qcustomplot.h only.

#define signals Q_SIGNALS
#define slots Q_SLOTS
#define emit Q_EMIT
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef slots
#undef emit
#undef foreach
