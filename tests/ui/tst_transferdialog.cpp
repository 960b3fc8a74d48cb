// Transfer dialog: the target tasks it offers, the task and the absolute data folder it
// returns, and its buttons.

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QLineEdit>
#include <QPushButton>
#include <QtTest>

#include "dialogs/transferdialog.h"
#include "text/tasks.h"

using namespace tl;
using namespace tl::ui;

class TestTransferDialog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void namesTheSourceAndOffersEveryTask()
    {
        TransferDialog d(7, 3);
        QVERIFY(d.windowTitle().contains(QStringLiteral("run 7")));
        QVERIFY(d.windowTitle().contains(QStringLiteral("round 3")));
        auto *task = d.findChild<QComboBox *>(QStringLiteral("task"));
        QVERIFY(task);
        QStringList offered;
        for (int i = 0; i < task->count(); ++i)
            offered << task->itemText(i);
        QStringList expected;
        for (const std::string &t : knownTaskNames())
            expected << QString::fromStdString(t);
        expected << QStringLiteral("mlm");
        QCOMPARE(offered, expected);
        QCOMPARE(d.task(), expected.first());
    }

    void returnsTheTaskAndAnAbsoluteFolder()
    {
        TransferDialog d(1, 2);
        auto *task = d.findChild<QComboBox *>(QStringLiteral("task"));
        auto *dataDir = d.findChild<QLineEdit *>(QStringLiteral("dataDir"));
        QVERIFY(task && dataDir);
        task->setCurrentIndex(task->findText(QStringLiteral("RTE")));
        QCOMPARE(d.task(), QStringLiteral("RTE"));
        task->setEditText(QStringLiteral("my-task")); // editable: a task of a generic folder
        QCOMPARE(d.task(), QStringLiteral("my-task"));
        dataDir->setText(QStringLiteral("glue/RTE"));
        QCOMPARE(d.dataDir(), QDir::current().absoluteFilePath(QStringLiteral("glue/RTE")));
        dataDir->setText(QStringLiteral("/data/glue/RTE"));
        QCOMPARE(d.dataDir(), QStringLiteral("/data/glue/RTE"));
    }

    void okAcceptsCancelRejects()
    {
        for (const auto button : {QDialogButtonBox::Ok, QDialogButtonBox::Cancel}) {
            TransferDialog d(1, 1);
            auto *buttons = d.findChild<QDialogButtonBox *>();
            QVERIFY(buttons);
            d.open();
            QTest::mouseClick(buttons->button(button), Qt::LeftButton);
            QCOMPARE(d.result(), button == QDialogButtonBox::Ok ? int(QDialog::Accepted) : int(QDialog::Rejected));
            QVERIFY(!d.isVisible());
        }
    }
};

QTEST_MAIN(TestTransferDialog)
#include "tst_transferdialog.moc"
