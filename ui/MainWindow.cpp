#include "ui/MainWindow.h"

#include <QLabel>

namespace ei {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(QStringLiteral("EIView"));
    setWindowIcon(QIcon(QStringLiteral(":/eiview/icons/eiview.svg")));
    setCentralWidget(new QLabel(tr("EIView"), this));
    resize(1400, 900);
}

}  // namespace ei
