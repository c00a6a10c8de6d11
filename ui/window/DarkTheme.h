// The viewer's calm dark-grey look (Fusion style, a dark palette, resources/viewer/theme.qss):
// neutral greys keep the eye on the images, one muted blue marks focus and selection.
#pragma once

class QApplication;

namespace ei {

class DarkTheme {
public:
    static void apply(QApplication& app);
};

}  // namespace ei
