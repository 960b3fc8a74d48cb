#include "dialogs/studydialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QToolButton>
#include <QVBoxLayout>

#include <exception>

#include "dialogs/newrundialog.h"
#include "engine/run_kinds.h"
#include "engine/run_spec.h"
#include "plots/figure.h"
#include "study/study.h"

namespace tl::ui {

namespace {

/// The study fields that are run-spec fields shared by every run (the new-run dialog edits them).
const QStringList &runSettingKeys()
{
    static const QStringList keys{QStringLiteral("prune"), QStringLiteral("rewind"),  QStringLiteral("head"),
                                  QStringLiteral("train"), QStringLiteral("threads"), QStringLiteral("device")};
    return keys;
}

/// The fields this form shows itself.
const QStringList &formKeys()
{
    static const QStringList keys{QStringLiteral("name"),     QStringLiteral("model"),     QStringLiteral("tasks"),
                                  QStringLiteral("seeds"),    QStringLiteral("baselines"), QStringLiteral("transfer"),
                                  QStringLiteral("criterion")};
    return keys;
}

QStringList splitList(const QString &text)
{
    QStringList out;
    for (const QString &s : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
        if (!s.trimmed().isEmpty())
            out << s.trimmed();
    return out;
}

QString joinValues(const QJsonArray &a)
{
    QStringList out;
    for (const QJsonValue &v : a)
        out << (v.isDouble() ? QString::number(qint64(v.toDouble())) : v.toString());
    return out.join(QStringLiteral(", "));
}

/// {"step": 0.1, "rounds": 9} -> "step 0.1, rounds 9": a one-line summary of a settings object.
QString summary(const QJsonValue &v)
{
    if (v.isString())
        return v.toString();
    if (v.isDouble())
        return QString::number(v.toDouble());
    if (v.isBool())
        return v.toBool() ? QStringLiteral("yes") : QStringLiteral("no");
    if (!v.isObject())
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    QStringList parts;
    const QJsonObject o = v.toObject();
    for (auto it = o.begin(); it != o.end(); ++it)
        if (!it.value().isNull())
            parts << it.key() + QLatin1Char(' ') + summary(it.value());
    return parts.join(QStringLiteral(", "));
}

QString absolutePath(const QString &path, const QString &baseDir)
{
    const QString p = path.trimmed();
    if (p.isEmpty())
        return p;
    return QDir::cleanPath(QFileInfo(p).isRelative() && !baseDir.isEmpty() ? QDir(baseDir).filePath(p)
                                                                           : QFileInfo(p).absoluteFilePath());
}

} // namespace

StudyDialog::StudyDialog(QWidget *parent) : QDialog(parent)
{
    setWindowTitle(QStringLiteral("Study"));
    auto *outer = new QVBoxLayout(this);
    auto *columns = new QHBoxLayout;
    outer->addLayout(columns);

    // -- what to run: model, tasks, seeds ------------------------------------------------------
    auto *what = new QGroupBox(QStringLiteral("Study"), this);
    auto *wf = new QFormLayout(what);
    m_name = new QLineEdit(QStringLiteral("study"), what);
    m_name->setObjectName(QStringLiteral("name"));
    wf->addRow(QStringLiteral("Name:"), m_name);
    m_model = new QLineEdit(what);
    m_model->setObjectName(QStringLiteral("model"));
    m_model->setMinimumWidth(280);
    m_model->setPlaceholderText(QStringLiteral("Hugging Face BERT folder (config.json + weights)"));
    auto *modelRow = new QHBoxLayout;
    modelRow->addWidget(m_model, 1);
    auto *browseModel = new QToolButton(what);
    browseModel->setText(QStringLiteral("\u2026"));
    modelRow->addWidget(browseModel);
    wf->addRow(QStringLiteral("Model:"), modelRow);
    connect(browseModel, &QToolButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, QStringLiteral("Model folder"), m_model->text());
        if (!dir.isEmpty())
            m_model->setText(dir);
    });

    m_tasks = new QTableWidget(0, 2, what);
    m_tasks->setObjectName(QStringLiteral("tasks"));
    m_tasks->setHorizontalHeaderLabels({QStringLiteral("Task"), QStringLiteral("Data folder")});
    m_tasks->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_tasks->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_tasks->verticalHeader()->hide();
    m_tasks->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_tasks->setToolTip(
        QStringLiteral("One row per task. A GLUE folder (glue/RTE) names its task; double-click to change it. "
                       "mlm: masked-LM on a text folder."));
    m_tasks->setMinimumHeight(130);
    wf->addRow(QStringLiteral("Tasks:"), m_tasks);
    auto *taskButtons = new QHBoxLayout;
    auto *addFolder = new QPushButton(QStringLiteral("Add folder\u2026"), what);
    addFolder->setToolTip(QStringLiteral("A task's data folder, or a folder of GLUE task folders (each one is added)"));
    auto *remove = new QPushButton(QStringLiteral("Remove"), what);
    taskButtons->addWidget(addFolder);
    taskButtons->addWidget(remove);
    taskButtons->addStretch(1);
    wf->addRow(QString(), taskButtons);
    connect(addFolder, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, QStringLiteral("Task data folder"));
        if (!dir.isEmpty() && addTaskFolder(dir) == 0)
            m_problems->setText(QStringLiteral("tasks: %1 is already in the study").arg(dir));
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        for (int row = m_tasks->rowCount() - 1; row >= 0; --row)
            if (m_tasks->item(row, 0) && m_tasks->item(row, 0)->isSelected())
                m_tasks->removeRow(row);
    });

    m_seeds = new QLineEdit(QStringLiteral("0, 1, 2"), what);
    m_seeds->setObjectName(QStringLiteral("seeds"));
    m_seeds->setToolTip(QStringLiteral("Comma-separated; every run of the study is repeated with each seed"));
    wf->addRow(QStringLiteral("Seeds:"), m_seeds);
    columns->addWidget(what, 3);

    // -- the protocol: baselines, transfer, criterion, run settings --------------------------------
    auto *protocol = new QGroupBox(QStringLiteral("Protocol"), this);
    auto *pf = new QFormLayout(protocol);
    auto *baselines = new QVBoxLayout;
    const std::vector<RunKind> defaults = StudySpec().baselines;
    for (RunKind kind : baselinesOf(RunKind::Imp)) {
        const QString name = QString::fromStdString(runKindName(kind));
        auto *box = new QCheckBox(name, protocol);
        box->setObjectName(QStringLiteral("baseline-") + name);
        box->setToolTip(QString::fromStdString(runKindLabel(kind)));
        box->setChecked(std::find(defaults.begin(), defaults.end(), kind) != defaults.end());
        m_baselines << box;
        baselines->addWidget(box);
    }
    pf->addRow(QStringLiteral("Baselines:"), baselines);
    protocol->setToolTip(
        QStringLiteral("IMP runs always; full, random, reinit and shuffle are the paper's Table 2 columns"));

    m_transfer = new QComboBox(protocol);
    m_transfer->setObjectName(QStringLiteral("transfer"));
    m_transfer->addItems({QStringLiteral("none"), QStringLiteral("at sparsity"), QStringLiteral("at round")});
    m_transfer->setToolTip(QStringLiteral("Fine-tune each task's IMP mask on the other tasks (the paper's Figure 2), "
                                          "from the IMP round nearest a sparsity or from a round"));
    m_transferSparsity = new QDoubleSpinBox(protocol);
    m_transferSparsity->setObjectName(QStringLiteral("transferSparsity"));
    m_transferSparsity->setRange(0.01, 0.99);
    m_transferSparsity->setDecimals(3);
    m_transferSparsity->setSingleStep(0.05);
    m_transferSparsity->setValue(0.7);
    m_transferRound = new QSpinBox(protocol);
    m_transferRound->setObjectName(QStringLiteral("transferRound"));
    m_transferRound->setRange(0, PruneSpec::kMaxRounds);
    m_transferRound->setValue(1);
    auto *transferRow = new QHBoxLayout;
    transferRow->addWidget(m_transfer);
    transferRow->addWidget(m_transferSparsity);
    transferRow->addWidget(m_transferRound);
    pf->addRow(QStringLiteral("Transfer:"), transferRow);
    m_from = new QLineEdit(protocol);
    m_from->setObjectName(QStringLiteral("transferFrom"));
    m_from->setPlaceholderText(QStringLiteral("every task"));
    pf->addRow(QStringLiteral("Tickets of:"), m_from);
    m_to = new QLineEdit(protocol);
    m_to->setObjectName(QStringLiteral("transferTo"));
    m_to->setPlaceholderText(QStringLiteral("every task"));
    pf->addRow(QStringLiteral("Transferred to:"), m_to);

    m_criterion = new QComboBox(protocol);
    m_criterion->setObjectName(QStringLiteral("criterion"));
    m_criterion->addItems(ticketCriterionNames());
    m_criterion->setToolTip(
        QStringLiteral("within_std: a ticket's mean within one standard deviation of the full model's "
                       "(the paper); match: at least the full model's mean"));
    pf->addRow(QStringLiteral("Ticket criterion:"), m_criterion);

    m_summary = new QLabel(protocol);
    m_summary->setObjectName(QStringLiteral("runSettings"));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    pf->addRow(QStringLiteral("Every run:"), m_summary);
    auto *edit = new QPushButton(QStringLiteral("Edit run settings\u2026"), protocol);
    edit->setToolTip(
        QStringLiteral("Pruning, rewinding, fine-tuning, threads and device in the new-run form, with its presets"));
    pf->addRow(QString(), edit);
    connect(edit, &QPushButton::clicked, this, &StudyDialog::editRunSettings);
    columns->addWidget(protocol, 2);

    m_problems = new QLabel(this);
    m_problems->setObjectName(QStringLiteral("problems"));
    m_problems->setWordWrap(true);
    m_problems->setStyleSheet(QStringLiteral("color: #b2182b"));
    outer->addWidget(m_problems);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(QStringLiteral("Save and open"));
    buttons->button(QDialogButtonBox::Ok)->setObjectName(QStringLiteral("ok"));
    auto *load = buttons->addButton(QStringLiteral("Load JSON\u2026"), QDialogButtonBox::ActionRole);
    auto *save = buttons->addButton(QStringLiteral("Save JSON\u2026"), QDialogButtonBox::ActionRole);
    outer->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &StudyDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &StudyDialog::reject);
    connect(save, &QPushButton::clicked, this, [this] {
        const QString path =
            QFileDialog::getSaveFileName(this, QStringLiteral("Save study"), m_path, QStringLiteral("Study (*.json)"));
        QString error;
        if (!path.isEmpty() && !saveStudy(path, &error))
            QMessageBox::warning(this, QStringLiteral("Save failed"), error);
    });
    connect(load, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Load study"), QFileInfo(m_path).path(),
                                                          QStringLiteral("Study (*.json)"));
        QString error;
        if (!path.isEmpty() && !loadStudy(path, &error))
            QMessageBox::warning(this, QStringLiteral("Load failed"), error);
    });
    connect(m_transfer, &QComboBox::currentIndexChanged, this, &StudyDialog::updateEnabled);
    updateEnabled();
    updateSummary();
}

void StudyDialog::keyPressEvent(QKeyEvent *event)
{
    // As in the new-run dialog: Return in a field must not save the study half edited.
    if (event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter) {
        event->accept();
        return;
    }
    QDialog::keyPressEvent(event);
}

void StudyDialog::updateEnabled()
{
    const int mode = m_transfer->currentIndex();
    m_transferSparsity->setVisible(mode == 1);
    m_transferRound->setVisible(mode == 2);
    m_from->setEnabled(mode != 0);
    m_to->setEnabled(mode != 0);
}

void StudyDialog::updateSummary()
{
    QStringList lines;
    for (const QString &key : runSettingKeys())
        if (m_runSettings.contains(key))
            lines << key + QStringLiteral(": ") + summary(m_runSettings.value(key));
    m_summary->setText(lines.isEmpty() ? QStringLiteral("the run spec's defaults") : lines.join(QLatin1Char('\n')));
}

void StudyDialog::setRunSettings(const QJsonObject &settings)
{
    m_runSettings = {};
    for (const QString &key : runSettingKeys())
        if (settings.contains(key))
            m_runSettings[key] = settings.value(key);
    updateSummary();
}

void StudyDialog::addTaskRow(const QString &task, const QString &dir)
{
    const int row = m_tasks->rowCount();
    m_tasks->insertRow(row);
    m_tasks->setItem(row, 0, new QTableWidgetItem(task));
    m_tasks->setItem(row, 1, new QTableWidgetItem(dir));
}

int StudyDialog::addTaskFolder(const QString &dir)
{
    const QString abs = QDir::cleanPath(QFileInfo(dir).absoluteFilePath());
    auto present = [this](const QString &folder) {
        for (int row = 0; row < m_tasks->rowCount(); ++row)
            if (m_tasks->item(row, 1) && QDir::cleanPath(m_tasks->item(row, 1)->text()) == folder)
                return true;
        return false;
    };
    QList<QPair<QString, QString>> found;
    if (const QString task = NewRunDialog::glueTaskOfFolder(abs); !task.isEmpty()) {
        found << qMakePair(task, abs);
    } else {
        for (const QFileInfo &sub : QDir(abs).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
            if (const QString t = NewRunDialog::glueTaskOfFolder(sub.absoluteFilePath()); !t.isEmpty())
                found << qMakePair(t, QDir::cleanPath(sub.absoluteFilePath()));
        if (found.isEmpty())
            found << qMakePair(QString(), abs); // not GLUE: the user names the task (e.g. mlm)
    }
    int added = 0;
    for (const auto &[task, folder] : found) {
        if (present(folder))
            continue;
        addTaskRow(task, folder);
        ++added;
        if (task.isEmpty())
            m_tasks->editItem(m_tasks->item(m_tasks->rowCount() - 1, 0));
    }
    return added;
}

QJsonObject StudyDialog::study() const
{
    QJsonObject o = m_extra;
    for (auto it = m_runSettings.begin(); it != m_runSettings.end(); ++it)
        o[it.key()] = it.value();
    o[QStringLiteral("name")] = m_name->text().trimmed();
    o[QStringLiteral("model")] = absolutePath(m_model->text(), {});
    QJsonObject tasks;
    for (int row = 0; row < m_tasks->rowCount(); ++row) {
        const QString task = m_tasks->item(row, 0) ? m_tasks->item(row, 0)->text().trimmed() : QString();
        const QString dir = m_tasks->item(row, 1) ? m_tasks->item(row, 1)->text() : QString();
        tasks[task] = absolutePath(dir, {});
    }
    o[QStringLiteral("tasks")] = tasks;
    QJsonArray seeds;
    for (const QString &s : splitList(m_seeds->text())) {
        bool ok = false;
        const qint64 v = s.toLongLong(&ok);
        seeds.append(ok ? QJsonValue(v) : QJsonValue(s)); // non-numbers fail validation by name
    }
    o[QStringLiteral("seeds")] = seeds;
    QJsonArray baselines;
    for (QCheckBox *box : m_baselines)
        if (box->isChecked())
            baselines.append(box->text());
    o[QStringLiteral("baselines")] = baselines;
    o[QStringLiteral("criterion")] = m_criterion->currentText();
    o.remove(QStringLiteral("transfer"));
    if (m_transfer->currentIndex() > 0) {
        QJsonObject t;
        if (m_transfer->currentIndex() == 1)
            t[QStringLiteral("sparsity")] = m_transferSparsity->value();
        else
            t[QStringLiteral("round")] = m_transferRound->value();
        if (const QStringList from = splitList(m_from->text()); !from.isEmpty())
            t[QStringLiteral("from")] = QJsonArray::fromStringList(from);
        if (const QStringList to = splitList(m_to->text()); !to.isEmpty())
            t[QStringLiteral("to")] = QJsonArray::fromStringList(to);
        o[QStringLiteral("transfer")] = t;
    }
    return o;
}

void StudyDialog::setStudy(const QJsonObject &o, const QString &baseDir)
{
    m_extra = {};
    QJsonObject settings;
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (runSettingKeys().contains(it.key()))
            settings[it.key()] = it.value();
        else if (!formKeys().contains(it.key()))
            m_extra[it.key()] = it.value(); // train_per_task, metric; unknown fields fail validation by name
    }
    setRunSettings(settings);
    m_name->setText(o.value(QLatin1String("name")).toString());
    m_model->setText(absolutePath(o.value(QLatin1String("model")).toString(), baseDir));
    m_tasks->setRowCount(0);
    const QJsonObject tasks = o.value(QLatin1String("tasks")).toObject();
    for (auto it = tasks.begin(); it != tasks.end(); ++it)
        addTaskRow(it.key(), absolutePath(it.value().toString(), baseDir));
    if (o.contains(QLatin1String("seeds")))
        m_seeds->setText(joinValues(o.value(QLatin1String("seeds")).toArray()));
    if (o.value(QLatin1String("baselines")).isArray()) {
        const QJsonArray b = o.value(QLatin1String("baselines")).toArray();
        for (QCheckBox *box : m_baselines)
            box->setChecked(b.contains(box->text()));
    } else {
        const std::vector<RunKind> defaults = StudySpec().baselines;
        for (QCheckBox *box : m_baselines)
            box->setChecked(std::find(defaults.begin(), defaults.end(), findRunKind(box->text().toStdString())) !=
                            defaults.end());
    }
    m_criterion->setCurrentText(o.value(QLatin1String("criterion")).toString(QStringLiteral("within_std")));
    const QJsonObject t = o.value(QLatin1String("transfer")).toObject();
    if (t.contains(QLatin1String("round"))) {
        m_transfer->setCurrentIndex(2);
        m_transferRound->setValue(t.value(QLatin1String("round")).toInt());
    } else if (t.contains(QLatin1String("sparsity"))) {
        m_transfer->setCurrentIndex(1);
        m_transferSparsity->setValue(t.value(QLatin1String("sparsity")).toDouble());
    } else {
        m_transfer->setCurrentIndex(0);
    }
    m_from->setText(joinValues(t.value(QLatin1String("from")).toArray()));
    m_to->setText(joinValues(t.value(QLatin1String("to")).toArray()));
    updateEnabled();
    m_problems->clear();
}

bool StudyDialog::loadStudy(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = path + QStringLiteral(": ") + f.errorString();
        return false;
    }
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        if (error)
            *error =
                path + QStringLiteral(": ") +
                (pe.error != QJsonParseError::NoError ? pe.errorString() : QStringLiteral("expected a JSON object"));
        return false;
    }
    setStudy(doc.object(), QFileInfo(path).absolutePath());
    m_path = QFileInfo(path).absoluteFilePath();
    showProblems();
    return true;
}

bool StudyDialog::saveStudy(const QString &path, QString *error)
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(study()).toJson(QJsonDocument::Indented)) < 0 ||
        !f.commit()) {
        if (error)
            *error = path + QStringLiteral(": ") + f.errorString();
        return false;
    }
    m_path = QFileInfo(path).absoluteFilePath();
    return true;
}

QStringList StudyDialog::validate() const
{
    QStringList problems;
    const QJsonObject o = study();
    if (o.value(QLatin1String("name")).toString().isEmpty())
        problems << QStringLiteral("name: give the study a name");
    const QString model = o.value(QLatin1String("model")).toString();
    if (model.isEmpty())
        problems << QStringLiteral("model: choose a Hugging Face BERT folder");
    else if (!QFileInfo(model).isDir())
        problems << QStringLiteral("model: %1 is not a folder").arg(model);
    if (m_tasks->rowCount() == 0)
        problems << QStringLiteral("tasks: add at least one task's data folder");
    QStringList names;
    for (int row = 0; row < m_tasks->rowCount(); ++row) {
        const QString task = m_tasks->item(row, 0) ? m_tasks->item(row, 0)->text().trimmed() : QString();
        const QString dir = m_tasks->item(row, 1) ? absolutePath(m_tasks->item(row, 1)->text(), {}) : QString();
        if (task.isEmpty())
            problems << QStringLiteral("tasks: name the task of %1 (a GLUE task, or mlm)").arg(dir);
        else if (names.contains(task, Qt::CaseInsensitive))
            problems << QStringLiteral("tasks.%1: listed twice").arg(task);
        else if (!QFileInfo(dir).isDir())
            problems << QStringLiteral("tasks.%1: %2 is not a folder").arg(task, dir);
        names << task;
    }
    // The study parser's own strict check (types, ranges, task names, transfer), naming the field.
    try {
        const QByteArray json = QJsonDocument(o).toJson(QJsonDocument::Compact);
        StudySpec::fromJson(nlohmann::json::parse(json.toStdString()), "study");
    } catch (const std::exception &e) {
        problems << QString::fromUtf8(e.what());
    }
    problems.removeDuplicates();
    return problems;
}

void StudyDialog::showProblems()
{
    m_problems->setText(validate().join(QLatin1Char('\n')));
}

void StudyDialog::editRunSettings()
{
    // The new-run dialog's form, on a probe spec: this study's model, first task and settings.
    NewRunDialog form(this);
    form.setWindowTitle(QStringLiteral("Run settings shared by every run of the study"));
    const QJsonObject s = study();
    QJsonObject probe = m_runSettings;
    probe[QStringLiteral("model")] = s.value(QLatin1String("model"));
    if (m_tasks->rowCount() > 0) {
        probe[QStringLiteral("task")] = m_tasks->item(0, 0) ? m_tasks->item(0, 0)->text() : QString();
        probe[QStringLiteral("data_dir")] = m_tasks->item(0, 1) ? m_tasks->item(0, 1)->text() : QString();
    }
    probe[QStringLiteral("kind")] = QString::fromStdString(runKindName(RunKind::Imp));
    probe[QStringLiteral("criterion")] = m_criterion->currentText();
    if (!s.value(QLatin1String("seeds")).toArray().isEmpty())
        probe[QStringLiteral("seeds")] = s.value(QLatin1String("seeds"));
    form.setSpec(probe);
    if (auto *ok = form.findChild<QPushButton *>(QStringLiteral("queue")))
        ok->setText(QStringLiteral("Use these settings"));
    QTemporaryDir scratch; // the form saves the spec it accepts; the study keeps only its settings
    form.setSpecFolder(scratch.path());
    if (form.exec() != QDialog::Accepted)
        return;
    const QJsonObject spec = form.spec();
    setRunSettings(spec);
    if (!spec.value(QLatin1String("model")).toString().isEmpty())
        m_model->setText(spec.value(QLatin1String("model")).toString());
    m_criterion->setCurrentText(spec.value(QLatin1String("criterion")).toString(m_criterion->currentText()));
    showProblems();
}

void StudyDialog::accept()
{
    const QStringList problems = validate();
    if (!problems.isEmpty()) {
        m_problems->setText(problems.join(QLatin1Char('\n')));
        return;
    }
    QString path = m_path;
    if (path.isEmpty())
        path = QFileDialog::getSaveFileName(this, QStringLiteral("Save study"),
                                            m_name->text() + QStringLiteral(".json"), QStringLiteral("Study (*.json)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!saveStudy(path, &error)) {
        m_problems->setText(error);
        return;
    }
    QDialog::accept();
}

} // namespace tl::ui
