// See ViewerResources.h.
#include "ui/window/ViewerResources.h"

#include <QtCore/qglobal.h>
#include <QDir>

static void initEiviewResources() { Q_INIT_RESOURCE(eiview); }  // must be outside a namespace

namespace ei {

void ViewerResources::init()
{
    static const bool done = [] {
        initEiviewResources();
        return true;
    }();
    (void)done;
}

}  // namespace ei
