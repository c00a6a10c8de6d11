// eiview: the desktop viewer. Parses arguments and wires the main window; nothing else.
#include "ui/MainWindow.h"

#include <QApplication>

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("EIView"));
    QApplication::setOrganizationName(QStringLiteral("EIView"));
    QApplication::setApplicationVersion(QStringLiteral(EIVIEW_VERSION_STRING));
    ei::MainWindow window;
    window.show();
    return app.exec();
}
