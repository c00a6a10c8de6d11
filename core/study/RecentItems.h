// The recently opened studies and models, newest first, kept in the user's settings
// (QSettings "recent/studies" and "recent/models", at most `limit` each). Paths are
// stored absolute; a path opened again moves to the top.
#pragma once

#include <QObject>
#include <QStringList>

namespace ei {

class RecentItems : public QObject {
    Q_OBJECT
public:
    enum Kind { Studies, Models };
    static constexpr int limit = 8;

    explicit RecentItems(QObject* parent = nullptr);

    QStringList items(Kind kind) const;
    void add(Kind kind, const QString& path);
    void clear(Kind kind);

Q_SIGNALS:
    void changed();
};

}  // namespace ei
