// Build-time tool: renders the SVG application icon to the PNG sizes that desktops and
// AppStream catalogs look for (hicolor NxN/apps), so that no binary icon is committed.
//   eiview-icon-renderer SVG SIZE OUT.png
#include <QGuiApplication>
#include <QImage>
#include <QImageReader>

#include <cstdio>

int main(int argc, char** argv)
{
    // Offscreen: the build machine need not have a display.
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    if (argc != 4) {
        std::fprintf(stderr, "usage: eiview-icon-renderer SVG SIZE OUT.png\n");
        return 2;
    }
    const int size = QString::fromLocal8Bit(argv[2]).toInt();
    QImageReader reader(QString::fromLocal8Bit(argv[1]));
    reader.setScaledSize(QSize(size, size));
    const QImage image = reader.read();
    if (image.isNull() || size <= 0) {
        std::fprintf(stderr, "eiview-icon-renderer: cannot render %s at %s px: %s (is Qt's SVG plugin, libqt6svg6, installed?)\n",
                     argv[1], argv[2], qPrintable(reader.errorString()));
        return 3;
    }
    if (!image.save(QString::fromLocal8Bit(argv[3]), "PNG")) {
        std::fprintf(stderr, "eiview-icon-renderer: cannot write %s\n", argv[3]);
        return 3;
    }
    return 0;
}
