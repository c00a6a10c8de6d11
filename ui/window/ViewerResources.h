// The viewer's compiled-in resources (resources/eiview.qrc: icon, theme, window presets)
// live in the static eiview_ui library, whose resource initialiser the linker drops
// unless something references it: init() does, and is safe to call any number of times.
#pragma once

namespace ei {

class ViewerResources {
public:
    static void init();
};

}  // namespace ei
