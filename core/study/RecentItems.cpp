// See RecentItems.h.
#include "core/study/RecentItems.h"

#include <QFileInfo>
#include <QSettings>

namespace ei {

namespace {
QString keyOf(RecentItems::Kind kind)
{
    return kind == RecentItems::Studies ? QStringLiteral("recent/studies") : QStringLiteral("recent/models");
}
}  // namespace

RecentItems::RecentItems(QObject* parent) : QObject(parent) {}

QStringList RecentItems::items(Kind kind) const { return QSettings().value(keyOf(kind)).toStringList(); }

void RecentItems::add(Kind kind, const QString& path)
{
    QSettings settings;
    QStringList list = settings.value(keyOf(kind)).toStringList();
    const QString abs = QFileInfo(path).absoluteFilePath();
    list.removeAll(abs);
    list.prepend(abs);
    while (list.size() > limit)
        list.removeLast();
    settings.setValue(keyOf(kind), list);
    Q_EMIT changed();
}

void RecentItems::clear(Kind kind)
{
    QSettings().remove(keyOf(kind));
    Q_EMIT changed();
}

}  // namespace ei
