#include "dialogs/transferdialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QLineEdit>

#include "dialogs/newrundialog.h"

namespace tl::ui {

TransferDialog::TransferDialog(qint64 run, int round, QWidget *parent) : QDialog(parent)
{
    setWindowTitle(QStringLiteral("Transfer the mask of run %1, round %2").arg(run).arg(round));
    auto *form = new QFormLayout(this);
    m_task = new QComboBox(this);
    m_task->setObjectName(QStringLiteral("task"));
    m_task->setEditable(true);
    m_task->addItems(NewRunDialog::taskNames());
    form->addRow(QStringLiteral("Target task:"), m_task);
    m_dataDir = new QLineEdit(this);
    m_dataDir->setObjectName(QStringLiteral("dataDir"));
    form->addRow(QStringLiteral("Target data folder:"), m_dataDir);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

QString TransferDialog::task() const
{
    return m_task->currentText();
}

QString TransferDialog::dataDir() const
{
    return QFileInfo(m_dataDir->text()).absoluteFilePath();
}

} // namespace tl::ui
