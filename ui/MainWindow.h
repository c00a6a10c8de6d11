// The main window of the viewer (issue 4 builds it out).
#pragma once

#include <QMainWindow>

namespace ei {

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
};

}  // namespace ei
