// eiview: the desktop viewer. Parses arguments and wires the main window; nothing else.
//   eiview                          opens the bundled demo (study + model) if found
//   eiview --study DIR --model FILE opens a given pair and runs the model
//   eiview ... --screenshot PNG     renders the window after load + inference, then quits
#include "core/BuildInfo.h"
#include "ui/window/DarkTheme.h"
#include "ui/window/MainWindow.h"

#include <QApplication>
#include <QCoreApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QTimer>

#include <cstdio>
#include <string>

namespace {

// The demo lives next to the executable in the build tree (build/demo, generated at build
// time), or in share/eiview/demo when installed.
QString findDemo()
{
    const QDir exe(QCoreApplication::applicationDirPath());
    for (const QString& rel : {QStringLiteral("../demo"), QStringLiteral("demo"), QStringLiteral("../share/eiview/demo")}) {
        const QDir d(exe.filePath(rel));
        if (QFileInfo(d.filePath(QStringLiteral("model.eimodel"))).isFile() && d.exists(QStringLiteral("study")))
            return d.absolutePath();
    }
    return {};
}

// The command line, the same for the window and for --help / --version.
struct Options {
    QCommandLineParser parser;
    // --version also names the libraries and the device found (core/BuildInfo), so that a
    // result can be traced to the software that produced it.
    const QCommandLineOption version{{QStringLiteral("v"), QStringLiteral("version")},
                                     QStringLiteral("Print the versions of EIView and its libraries and the device found.")};
    const QCommandLineOption study{QStringLiteral("study"), QStringLiteral("Study folder to open."), QStringLiteral("DIR")};
    const QCommandLineOption model{QStringLiteral("model"), QStringLiteral("Model file (.eimodel) to open."), QStringLiteral("FILE")};
    const QCommandLineOption device{QStringLiteral("device"), QStringLiteral("auto, cpu or cuda:k (default auto)."),
                                    QStringLiteral("DEVICE"), QStringLiteral("auto")};
    const QCommandLineOption screenshot{QStringLiteral("screenshot"),
                                        QStringLiteral("Render the window to PNG after loading and inference, then quit."),
                                        QStringLiteral("PNG")};

    Options()
    {
        QCoreApplication::setApplicationName(QStringLiteral("EIView"));
        QCoreApplication::setOrganizationName(QStringLiteral("EIView"));
        QCoreApplication::setApplicationVersion(QStringLiteral(EIVIEW_VERSION_STRING));
        parser.setApplicationDescription(QStringLiteral("EIView: multimodal image viewer running the EI model."));
        parser.addHelpOption();
        parser.addOptions({version, study, model, device, screenshot});
        parser.addPositionalArgument(QStringLiteral("files"), QStringLiteral("Images to open."), QStringLiteral("[FILE...]"));
    }
};

}  // namespace

int main(int argc, char** argv)
{
    // --help and --version answer without a display (scripts, ssh sessions, the package
    // test): a QApplication would abort there, so these get a QCoreApplication.
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help" || a == "--help-all" || a == "-v" || a == "--version") {
            QCoreApplication core(argc, argv);
            Options options;
            options.parser.process(core);  // prints the help and exits
            std::fputs(ei::BuildInfo::versionReport("eiview").c_str(), stdout);
            return 0;
        }
    }

    QApplication app(argc, argv);
    Options options;
    QCommandLineParser& parser = options.parser;
    parser.process(app);
    const QCommandLineOption &studyOpt = options.study, &modelOpt = options.model, &deviceOpt = options.device,
                             &shotOpt = options.screenshot;

    QString study = parser.value(studyOpt), model = parser.value(modelOpt);
    QStringList files = parser.positionalArguments();
    // A model among the files (e.g. opened from the file manager) is opened as the model.
    for (int i = files.size() - 1; i >= 0 && model.isEmpty(); --i)
        if (files[i].endsWith(QLatin1String(".eimodel"), Qt::CaseInsensitive))
            model = files.takeAt(i);
    if (study.isEmpty() && model.isEmpty() && files.isEmpty()) {
        const QString demo = findDemo();
        if (!demo.isEmpty()) {
            study = QDir(demo).filePath(QStringLiteral("study"));
            model = QDir(demo).filePath(QStringLiteral("model.eimodel"));
        }
    }

    ei::DarkTheme::apply(app);
    ei::MainWindow window;
    const QString shot = parser.value(shotOpt);
    int exitCode = 0;
    if (!shot.isEmpty()) {
        window.resize(1600, 1000);
        auto save = [&window, &shot, &exitCode](int code) {
            // Let the layout settle and the charts replot before grabbing.
            QTimer::singleShot(400, &window, [&window, &shot, &exitCode, code] {
                exitCode = window.grab().save(shot, "PNG", 0) ? code : 1;  // 0: smallest file
                if (code != 0)
                    std::fprintf(stderr, "eiview: %s\n", qPrintable(window.messageText()));
                QApplication::quit();
            });
        };
        QObject::connect(&window, &ei::MainWindow::inferenceFinished, &window, [save] { save(0); });
        QObject::connect(&window, &ei::MainWindow::inferenceFailed, &window, [save] { save(1); });
        QObject::connect(&window, &ei::MainWindow::modelFailed, &window, [save] { save(1); });
        QObject::connect(&window, &ei::MainWindow::runRefused, &window, [save] { save(1); });
        if (model.isEmpty())
            save(0);  // nothing to run: render what is there
        QTimer::singleShot(300000, &window, [save] { save(1); });
    }
    window.setDevice(parser.value(deviceOpt));
    if (!files.isEmpty())
        window.openFiles(files);
    if (!study.isEmpty())
        window.openStudyFolder(study);
    if (!model.isEmpty()) {
        window.setRunWhenReady(true);
        window.openModel(model);
    }
    window.show();
    const int rc = app.exec();
    window.shutdown();  // free the model before QApplication goes (LibTorch at exit)
    return shot.isEmpty() ? rc : exitCode;
}
