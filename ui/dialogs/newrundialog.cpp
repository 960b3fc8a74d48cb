#include "dialogs/newrundialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QScopedValueRollback>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include <exception>

#include "engine/run_spec.h"
#include "model/bert_config.h"
#include "plots/figure.h"
#include "text/tasks.h"

namespace tl::ui {

namespace {

QWidget *pathRow(QLineEdit *edit, QWidget *parent, const QString &title)
{
    auto *w = new QWidget(parent);
    auto *h = new QHBoxLayout(w);
    h->setContentsMargins(0, 0, 0, 0);
    edit->setMinimumWidth(280); // paths are long
    h->addWidget(edit, 1);
    auto *browse = new QToolButton(w);
    browse->setText(QStringLiteral("\u2026"));
    QObject::connect(browse, &QToolButton::clicked, w, [edit, w, title] {
        const QString dir = QFileDialog::getExistingDirectory(w, title, edit->text());
        if (!dir.isEmpty())
            edit->setText(dir);
    });
    h->addWidget(browse);
    return w;
}

/// Why the folder's weights cannot be read, or empty. Reads only the file headers (a BERT-base
/// checkpoint is 440 MB): safetensors' length-prefixed JSON header, or torch.save's zip magic.
QString checkpointProblem(const QDir &dir)
{
    QFile st(dir.filePath(QStringLiteral("model.safetensors")));
    if (st.exists()) {
        if (!st.open(QIODevice::ReadOnly))
            return st.fileName() + QStringLiteral(": ") + st.errorString();
        const QByteArray prefix = st.read(8);
        quint64 n = 0;
        for (int i = 7; i >= 0 && prefix.size() == 8; --i)
            n = (n << 8) | quint8(prefix[i]);
        if (prefix.size() != 8 || n == 0 || n + 8 > quint64(st.size()))
            return st.fileName() + QStringLiteral(": not a safetensors file (bad header length)");
        QJsonParseError error;
        const QJsonDocument header = QJsonDocument::fromJson(st.read(qint64(n)), &error);
        if (error.error != QJsonParseError::NoError || !header.isObject())
            return st.fileName() + QStringLiteral(": not a safetensors file (header: ") + error.errorString() +
                   QLatin1Char(')');
        return {};
    }
    QFile bin(dir.filePath(QStringLiteral("pytorch_model.bin")));
    if (bin.exists()) {
        if (!bin.open(QIODevice::ReadOnly))
            return bin.fileName() + QStringLiteral(": ") + bin.errorString();
        if (!bin.read(4).startsWith("PK"))
            return bin.fileName() + QStringLiteral(": not a torch.save zip archive");
        return {};
    }
    return dir.path() + QStringLiteral(" has no model.safetensors or pytorch_model.bin");
}

QDoubleSpinBox *doubleSpin(double min, double max, double value, int decimals, double step, QWidget *parent)
{
    auto *s = new QDoubleSpinBox(parent);
    s->setRange(min, max);
    s->setDecimals(decimals);
    s->setSingleStep(step);
    s->setValue(value);
    return s;
}

/// The kinds a run spec may ask for, by name, each with its label as tooltip.
void addKindItems(QComboBox *combo)
{
    QStringList tips;
    for (const RunKindInfo &k : runKindTable()) {
        if (!k.inSpec)
            continue;
        combo->addItem(QString::fromUtf8(k.name));
        combo->setItemData(combo->count() - 1, QString::fromUtf8(k.label), Qt::ToolTipRole);
        tips << QStringLiteral("%1: %2").arg(QString::fromUtf8(k.name), QString::fromUtf8(k.label));
    }
    combo->setToolTip(tips.join(QLatin1Char('\n')));
}

RunKind kindOf(const QComboBox *combo)
{
    return findRunKind(combo->currentText().toStdString()).value_or(RunKind::Imp);
}

QSpinBox *intSpin(int min, int max, int value, QWidget *parent)
{
    auto *s = new QSpinBox(parent);
    s->setRange(min, max);
    s->setValue(value);
    return s;
}

} // namespace

QString NewRunDialog::paperPresetNote()
{
    return QStringLiteral(
        "As BERT-Tickets' code (LT_glue.py) ran GLUE: 3 epochs of fine-tuning per IMP round (its save_steps "
        "36,813 on MNLI at batch 32 is 3 epochs; 30 epochs for 10 rounds), AdamW at lr 2e-5 without warm-up "
        "or weight decay, batch 32, sequences of 128 tokens; global magnitude pruning of 10% of the original "
        "weights per round (linear) to 90% sparsity, rewinding to the pre-trained weights, the task head kept.");
}

QStringList NewRunDialog::taskNames()
{
    QStringList names;
    for (const std::string &t : knownTaskNames())
        names << QString::fromStdString(t);
    names << QStringLiteral("mlm");
    return names;
}

QStringList NewRunDialog::presetNames()
{
    return {QStringLiteral("Paper (Chen et al. 2020)"), QStringLiteral("Quick demo")};
}

NewRunDialog::NewRunDialog(QWidget *parent) : QDialog(parent)
{
    setWindowTitle(QStringLiteral("New run"));
    auto *outer = new QVBoxLayout(this);
    outer->addLayout(buildPresetRow());
    auto *columns = new QHBoxLayout;
    outer->addLayout(columns);
    columns->addWidget(buildExperimentGroup());
    columns->addWidget(buildPruningGroup());
    columns->addWidget(buildTrainingGroup());
    m_problems = new QLabel(this);
    m_problems->setWordWrap(true);
    m_problems->setStyleSheet(QStringLiteral("color: #b2182b"));
    outer->addWidget(m_problems);
    outer->addWidget(buildButtons());
    connectForm();
    updateEnabled();
}

QLayout *NewRunDialog::buildPresetRow()
{
    auto *presetRow = new QHBoxLayout;
    presetRow->addWidget(new QLabel(QStringLiteral("Preset:"), this));
    m_preset = new QComboBox(this);
    m_preset->setObjectName(QStringLiteral("preset"));
    m_preset->addItems(presetNames());
    m_preset->setItemData(0, paperPresetNote(), Qt::ToolTipRole);
    m_preset->setItemData(1, QStringLiteral("A few steps per round on small data: to check a setup, not to measure"),
                          Qt::ToolTipRole);
    // No preset is shown until one is applied: the form starts from the run spec's defaults
    // (1 epoch per round), which are not the paper's settings.
    m_preset->setPlaceholderText(QStringLiteral("Custom (run spec defaults)"));
    m_preset->setCurrentIndex(-1);
    m_preset->setToolTip(QStringLiteral("Choosing a preset fills the form at once.\n\n") + paperPresetNote());
    presetRow->addWidget(m_preset, 1);
    connect(m_preset, &QComboBox::activated, this, [this](int i) { applyPreset(m_preset->itemText(i)); });
    return presetRow;
}

/// What to run: model, task, data, kind, source, seeds, device.
QWidget *NewRunDialog::buildExperimentGroup()
{
    auto *what = new QGroupBox(QStringLiteral("Experiment"), this);
    auto *wf = new QFormLayout(what);
    m_model = new QLineEdit(what);
    m_model->setPlaceholderText(QStringLiteral("Hugging Face BERT folder (config.json + weights)"));
    wf->addRow(QStringLiteral("Model:"), pathRow(m_model, what, QStringLiteral("Model folder")));
    m_task = new QComboBox(what);
    m_task->setObjectName(QStringLiteral("task"));
    m_task->setEditable(true);
    m_task->setInsertPolicy(QComboBox::NoInsert);
    m_task->setToolTip(
        QStringLiteral("Until you set it here, the task follows a GLUE data folder's name (glue/RTE: RTE)"));
    m_task->addItems(taskNames());
    wf->addRow(QStringLiteral("Task:"), m_task);
    m_dataDir = new QLineEdit(what);
    m_dataDir->setObjectName(QStringLiteral("dataDir"));
    m_dataDir->setPlaceholderText(QStringLiteral("Task folder (train.tsv, dev.tsv) or text folder for mlm"));
    wf->addRow(QStringLiteral("Data:"), pathRow(m_dataDir, what, QStringLiteral("Data folder")));
    m_kind = new QComboBox(what);
    addKindItems(m_kind);
    wf->addRow(QStringLiteral("Kind:"), m_kind);
    m_sourceRun = intSpin(0, 1000000, 0, what);
    m_sourceRun->setSpecialValueText(QStringLiteral("(none)"));
    wf->addRow(QStringLiteral("Source run:"), m_sourceRun);
    m_sourceRound = intSpin(0, 1000, 0, what);
    wf->addRow(QStringLiteral("Source round:"), m_sourceRound);
    m_maskFile = new QLineEdit(what);
    m_maskFile->setPlaceholderText(QStringLiteral("or a mask file (transfer)"));
    wf->addRow(QStringLiteral("Mask file:"), m_maskFile);
    m_seeds = new QLineEdit(QStringLiteral("0"), what);
    m_seeds->setToolTip(QStringLiteral("Comma-separated; each seed is its own run"));
    wf->addRow(QStringLiteral("Seeds:"), m_seeds);
    m_criterion = new QComboBox(what);
    m_criterion->addItems(ticketCriterionNames());
    wf->addRow(QStringLiteral("Ticket criterion:"), m_criterion);
    m_threads = intSpin(0, 256, 0, what);
    m_threads->setSpecialValueText(QStringLiteral("default"));
    wf->addRow(QStringLiteral("Threads:"), m_threads);
    m_device = new QComboBox(what);
    m_device->setEditable(true);
    m_device->setInsertPolicy(QComboBox::NoInsert);
    m_device->addItems({QStringLiteral("cpu"), QStringLiteral("cuda"), QStringLiteral("cuda:0")});
    wf->addRow(QStringLiteral("Device:"), m_device);
    return what;
}

QWidget *NewRunDialog::buildPruningGroup()
{
    auto *prune = new QGroupBox(QStringLiteral("Pruning and rewinding"), this);
    auto *pf = new QFormLayout(prune);
    m_method = new QComboBox(prune);
    m_method->addItems({QStringLiteral("global_magnitude"), QStringLiteral("tensor_magnitude"),
                        QStringLiteral("global_random"), QStringLiteral("tensor_random")});
    pf->addRow(QStringLiteral("Method:"), m_method);
    m_schedule = new QComboBox(prune);
    m_schedule->addItems({QStringLiteral("linear"), QStringLiteral("geometric")});
    m_schedule->setToolTip(QStringLiteral("linear: each round removes `step` of the ORIGINAL weights (BERT-Tickets); "
                                          "geometric: `step` of the REMAINING ones (the paper's text)"));
    pf->addRow(QStringLiteral("Schedule:"), m_schedule);
    m_step = doubleSpin(0.01, 0.99, 0.1, 3, 0.05, prune);
    pf->addRow(QStringLiteral("Step:"), m_step);
    m_stopBy = new QComboBox(prune);
    m_stopBy->addItems({QStringLiteral("rounds"), QStringLiteral("target sparsity"), QStringLiteral("default (90%)")});
    pf->addRow(QStringLiteral("Stop by:"), m_stopBy);
    m_rounds = intSpin(1, PruneSpec::kMaxRounds, 9, prune);
    pf->addRow(QStringLiteral("Rounds:"), m_rounds);
    m_target = doubleSpin(0.01, 0.99, 0.9, 3, 0.05, prune);
    pf->addRow(QStringLiteral("Target sparsity:"), m_target);
    m_pooler = new QCheckBox(QStringLiteral("prune the pooler"), prune);
    m_pooler->setChecked(true);
    pf->addRow(QString(), m_pooler);
    m_embeddings = new QCheckBox(QStringLiteral("prune the embeddings"), prune);
    pf->addRow(QString(), m_embeddings);
    m_rewind = new QComboBox(prune);
    m_rewind->addItems({QStringLiteral("pretrained"), QStringLiteral("step")});
    m_rewind->setToolTip(QStringLiteral(
        "Rewind the surviving weights to the pre-trained weights (the paper) or to step k of fine-tuning"));
    pf->addRow(QStringLiteral("Rewind to:"), m_rewind);
    m_rewindStep = intSpin(0, 100000000, 0, prune);
    pf->addRow(QStringLiteral("Rewind step:"), m_rewindStep);
    m_head = new QComboBox(prune);
    m_head->addItems({QStringLiteral("keep"), QStringLiteral("reinit")});
    pf->addRow(QStringLiteral("Task head:"), m_head);
    m_earlyBird = new QCheckBox(QStringLiteral("early bird: draw the next mask while training"), prune);
    m_earlyBird->setToolTip(QStringLiteral(
        "IMP only. Every few steps, the mask the next prune would make is drawn and its distance to the previous "
        "draw stored; with Stop, a round prunes as soon as the last Window distances are below epsilon "
        "(You et al. 2020). The last round always trains in full."));
    pf->addRow(QString(), m_earlyBird);
    m_earlyBirdEpsilon = doubleSpin(0.001, 1.0, 0.1, 3, 0.01, prune);
    pf->addRow(QStringLiteral("Early-bird epsilon:"), m_earlyBirdEpsilon);
    m_earlyBirdWindow = intSpin(1, 1000, 3, prune);
    pf->addRow(QStringLiteral("Early-bird window:"), m_earlyBirdWindow);
    m_earlyBirdEvery = intSpin(0, 100000000, 0, prune);
    m_earlyBirdEvery->setSpecialValueText(QStringLiteral("each 10% of a round"));
    pf->addRow(QStringLiteral("Draw every (steps):"), m_earlyBirdEvery);
    m_earlyBirdStop = new QCheckBox(QStringLiteral("stop a round once the mask settles"), prune);
    m_earlyBirdStop->setChecked(true);
    pf->addRow(QString(), m_earlyBirdStop);
    return prune;
}

/// Fine-tuning settings of each round.
QWidget *NewRunDialog::buildTrainingGroup()
{
    auto *train = new QGroupBox(QStringLiteral("Fine-tuning (each round)"), this);
    auto *tf = new QFormLayout(train);
    m_epochs = intSpin(1, 1000, 1, train);
    m_epochs->setObjectName(QStringLiteral("epochs"));
    tf->addRow(QStringLiteral("Epochs:"), m_epochs);
    m_maxSteps = intSpin(0, 100000000, 0, train);
    m_maxSteps->setSpecialValueText(QStringLiteral("no cap"));
    tf->addRow(QStringLiteral("Max steps:"), m_maxSteps);
    m_lr = doubleSpin(1e-7, 1.0, 2e-5, 7, 1e-5, train);
    tf->addRow(QStringLiteral("Learning rate:"), m_lr);
    m_batch = intSpin(1, 4096, 32, train);
    tf->addRow(QStringLiteral("Batch size:"), m_batch);
    m_evalBatch = intSpin(1, 4096, 64, train);
    tf->addRow(QStringLiteral("Eval batch size:"), m_evalBatch);
    m_seqLen = intSpin(3, 4096, 128, train);
    tf->addRow(QStringLiteral("Max sequence length:"), m_seqLen);
    m_warmup = doubleSpin(0.0, 0.99, 0.0, 3, 0.05, train);
    tf->addRow(QStringLiteral("Warm-up fraction:"), m_warmup);
    m_weightDecay = doubleSpin(0.0, 10.0, 0.01, 4, 0.01, train);
    tf->addRow(QStringLiteral("Weight decay:"), m_weightDecay);
    return train;
}

/// Queue (OK), Cancel, and loading and saving the spec as JSON.
QDialogButtonBox *NewRunDialog::buildButtons()
{
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(QStringLiteral("Queue run"));
    buttons->button(QDialogButtonBox::Ok)->setObjectName(QStringLiteral("queue"));
    auto *load = buttons->addButton(QStringLiteral("Load JSON\u2026"), QDialogButtonBox::ActionRole);
    auto *save = buttons->addButton(QStringLiteral("Save JSON\u2026"), QDialogButtonBox::ActionRole);
    connect(buttons, &QDialogButtonBox::accepted, this, &NewRunDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &NewRunDialog::reject);
    connect(save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Save run spec"), QString(),
                                                          QStringLiteral("Run spec (*.json)"));
        QString error;
        if (!path.isEmpty() && !saveSpec(path, &error))
            QMessageBox::warning(this, QStringLiteral("Save failed"), error);
    });
    connect(load, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Load run spec"), QString(),
                                                          QStringLiteral("Run spec (*.json)"));
        if (path.isEmpty())
            return;
        QFile f(path);
        QString error;
        if (!f.open(QIODevice::ReadOnly))
            error = path + QStringLiteral(": ") + f.errorString();
        else if (QJsonParseError pe; !setSpec(QJsonDocument::fromJson(f.readAll(), &pe).object(), &error) || pe.error)
            error = path + QStringLiteral(": ") + (pe.error ? pe.errorString() : error);
        if (!error.isEmpty())
            QMessageBox::warning(this, QStringLiteral("Load failed"), error);
    });
    return buttons;
}

/// What the form does as it is edited: enabling fields, naming problems, inferring the task.
void NewRunDialog::connectForm()
{
    for (QComboBox *c : {m_kind, m_stopBy, m_rewind})
        connect(c, &QComboBox::currentIndexChanged, this, &NewRunDialog::updateEnabled);
    connect(m_earlyBird, &QCheckBox::toggled, this, &NewRunDialog::updateEnabled);
    for (QLineEdit *e : {m_model, m_dataDir})
        connect(e, &QLineEdit::editingFinished, this, &NewRunDialog::showProblems);
    // Only the user's own choice of task pins it; a data folder chosen later must not override it.
    connect(m_task, &QComboBox::activated, this, [this] { m_taskSetByHand = true; });
    connect(m_task->lineEdit(), &QLineEdit::textEdited, this, [this] { m_taskSetByHand = true; });
    connect(m_dataDir, &QLineEdit::textChanged, this, [this](const QString &dir) {
        if (m_taskSetByHand || m_fillingForm)
            return;
        const QString task = glueTaskOfFolder(dir);
        if (!task.isEmpty())
            m_task->setCurrentIndex(m_task->findText(task));
    });
}

QString NewRunDialog::glueTaskOfFolder(const QString &dir)
{
    const QString name = QFileInfo(QDir::cleanPath(dir.trimmed())).fileName();
    if (name.isEmpty())
        return {};
    try {
        const TaskSpec task = taskByName(name.toStdString()); // case-insensitive; "sts-b", "SST2" too
        if (task.name == "generic" || task.name == "generic-regression")
            return {};
        return QString::fromStdString(task.name);
    } catch (const std::exception &) {
        return {};
    }
}

void NewRunDialog::keyPressEvent(QKeyEvent *event)
{
    // QDialog turns Return into a click on the default button ("Queue run"), so Return in the
    // task box or a spin box would queue the run with the fields below it unedited. Here only
    // the buttons submit (a focused button takes Return itself, before the dialog sees it).
    if (event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter) {
        event->accept();
        return;
    }
    QDialog::keyPressEvent(event);
}

void NewRunDialog::updateEnabled()
{
    const RunKindInfo &kind = runKindInfo(kindOf(m_kind));
    const bool transfer = kind.kind == RunKind::Transfer; // the one kind that takes a mask (a round, or a file)
    m_sourceRun->setEnabled(kind.needsSource);
    m_sourceRound->setEnabled(transfer);
    m_maskFile->setEnabled(transfer);
    const bool prunes = kind.prunes;
    for (QWidget *w : std::initializer_list<QWidget *>{m_method, m_schedule, m_step, m_stopBy, m_pooler, m_embeddings})
        w->setEnabled(prunes);
    m_rounds->setEnabled(prunes && m_stopBy->currentIndex() == 0);
    m_target->setEnabled(prunes && m_stopBy->currentIndex() == 1);
    m_rewindStep->setEnabled(m_rewind->currentIndex() == 1);
    const bool imp = kind.kind == RunKind::Imp;
    m_earlyBird->setEnabled(imp);
    for (QWidget *w :
         std::initializer_list<QWidget *>{m_earlyBirdEpsilon, m_earlyBirdWindow, m_earlyBirdEvery, m_earlyBirdStop})
        w->setEnabled(imp && m_earlyBird->isChecked());
}

QJsonObject NewRunDialog::spec() const
{
    auto absolute = [](const QString &p) {
        return p.trimmed().isEmpty() ? QString() : QFileInfo(p.trimmed()).absoluteFilePath();
    };
    QJsonObject o;
    o[QStringLiteral("model")] = absolute(m_model->text());
    o[QStringLiteral("task")] = m_task->currentText().trimmed();
    o[QStringLiteral("data_dir")] = absolute(m_dataDir->text());
    const RunKind kind = kindOf(m_kind);
    o[QStringLiteral("kind")] = QString::fromStdString(runKindName(kind));
    if (runKindInfo(kind).prunes) {
        QJsonObject p;
        p[QStringLiteral("method")] = m_method->currentText();
        p[QStringLiteral("schedule")] = m_schedule->currentText();
        p[QStringLiteral("step")] = m_step->value();
        if (m_stopBy->currentIndex() == 0)
            p[QStringLiteral("rounds")] = m_rounds->value();
        else if (m_stopBy->currentIndex() == 1)
            p[QStringLiteral("target_sparsity")] = m_target->value();
        p[QStringLiteral("include_pooler")] = m_pooler->isChecked();
        p[QStringLiteral("include_embeddings")] = m_embeddings->isChecked();
        o[QStringLiteral("prune")] = p;
    }
    if (m_rewind->currentIndex() == 0)
        o[QStringLiteral("rewind")] = QStringLiteral("pretrained");
    else
        o[QStringLiteral("rewind")] = QJsonObject{{QStringLiteral("step"), m_rewindStep->value()}};
    o[QStringLiteral("head")] = m_head->currentText();
    QJsonObject t;
    t[QStringLiteral("epochs")] = m_epochs->value();
    t[QStringLiteral("max_steps")] = m_maxSteps->value() > 0 ? QJsonValue(m_maxSteps->value()) : QJsonValue();
    t[QStringLiteral("lr")] = m_lr->value();
    t[QStringLiteral("batch_size")] = m_batch->value();
    t[QStringLiteral("eval_batch_size")] = m_evalBatch->value();
    t[QStringLiteral("max_seq_len")] = m_seqLen->value();
    t[QStringLiteral("warmup")] = m_warmup->value();
    t[QStringLiteral("weight_decay")] = m_weightDecay->value();
    o[QStringLiteral("train")] = t;
    QJsonArray seeds;
    for (const QString &s : m_seeds->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const qint64 v = s.trimmed().toLongLong(&ok);
        seeds.append(ok ? QJsonValue(v) : QJsonValue(s.trimmed())); // non-numbers fail validation by name
    }
    o[QStringLiteral("seeds")] = seeds;
    o[QStringLiteral("threads")] = m_threads->value();
    o[QStringLiteral("device")] = m_device->currentText().trimmed();
    o[QStringLiteral("criterion")] = m_criterion->currentText();
    if (kind == RunKind::Transfer && !m_maskFile->text().trimmed().isEmpty())
        o[QStringLiteral("source")] = QJsonObject{{QStringLiteral("mask_file"), absolute(m_maskFile->text())}};
    else if (kind == RunKind::Transfer)
        o[QStringLiteral("source")] = QJsonObject{{QStringLiteral("run"), m_sourceRun->value()},
                                                  {QStringLiteral("round"), m_sourceRound->value()}};
    else if (runKindInfo(kind).needsSource) // reinit, shuffle: every round of an IMP run
        o[QStringLiteral("source")] = QJsonObject{{QStringLiteral("run"), m_sourceRun->value()}};
    if (kind == RunKind::Imp && m_earlyBird->isChecked())
        o[QStringLiteral("early_bird")] = QJsonObject{{QStringLiteral("epsilon"), m_earlyBirdEpsilon->value()},
                                                      {QStringLiteral("window"), m_earlyBirdWindow->value()},
                                                      {QStringLiteral("every"), m_earlyBirdEvery->value()},
                                                      {QStringLiteral("stop"), m_earlyBirdStop->isChecked()}};
    return o;
}

bool NewRunDialog::setSpec(const QJsonObject &o, QString *error)
{
    if (o.isEmpty()) {
        if (error)
            *error = QStringLiteral("not a run spec (expected a JSON object)");
        return false;
    }
    // A spec states its own task: its data folder must not re-infer it.
    const QScopedValueRollback<bool> filling(m_fillingForm, true);
    m_preset->setCurrentIndex(-1); // the form is this spec now, not a preset
    auto setCombo = [](QComboBox *c, const QString &v) {
        const int i = c->findText(v, Qt::MatchFixedString);
        if (i >= 0)
            c->setCurrentIndex(i);
        else if (c->isEditable())
            c->setEditText(v);
    };
    if (o.contains(QLatin1String("model")))
        m_model->setText(o.value(QLatin1String("model")).toString());
    if (o.contains(QLatin1String("task")))
        setCombo(m_task, o.value(QLatin1String("task")).toString());
    if (o.contains(QLatin1String("data_dir")))
        m_dataDir->setText(o.value(QLatin1String("data_dir")).toString());
    if (o.contains(QLatin1String("kind")))
        setCombo(m_kind, o.value(QLatin1String("kind")).toString());
    const QJsonObject p = o.value(QLatin1String("prune")).toObject();
    if (p.contains(QLatin1String("method")))
        setCombo(m_method, p.value(QLatin1String("method")).toString());
    if (p.contains(QLatin1String("schedule")))
        setCombo(m_schedule, p.value(QLatin1String("schedule")).toString());
    if (p.contains(QLatin1String("step")))
        m_step->setValue(p.value(QLatin1String("step")).toDouble());
    if (p.value(QLatin1String("rounds")).isDouble() && p.value(QLatin1String("rounds")).toInt() > 0) {
        m_stopBy->setCurrentIndex(0);
        m_rounds->setValue(p.value(QLatin1String("rounds")).toInt());
    } else if (p.value(QLatin1String("target_sparsity")).isDouble()) {
        m_stopBy->setCurrentIndex(1);
        m_target->setValue(p.value(QLatin1String("target_sparsity")).toDouble());
    } else if (!p.isEmpty()) {
        m_stopBy->setCurrentIndex(2);
    }
    if (p.contains(QLatin1String("include_pooler")))
        m_pooler->setChecked(p.value(QLatin1String("include_pooler")).toBool());
    if (p.contains(QLatin1String("include_embeddings")))
        m_embeddings->setChecked(p.value(QLatin1String("include_embeddings")).toBool());
    const QJsonValue rewind = o.value(QLatin1String("rewind"));
    if (rewind.isObject()) {
        m_rewind->setCurrentIndex(1);
        m_rewindStep->setValue(rewind.toObject().value(QLatin1String("step")).toInt());
    } else if (rewind.isString()) {
        m_rewind->setCurrentIndex(0);
    }
    if (o.contains(QLatin1String("head")))
        setCombo(m_head, o.value(QLatin1String("head")).toString());
    const QJsonObject t = o.value(QLatin1String("train")).toObject();
    if (t.contains(QLatin1String("epochs")))
        m_epochs->setValue(t.value(QLatin1String("epochs")).toInt());
    if (t.contains(QLatin1String("max_steps")))
        m_maxSteps->setValue(
            t.value(QLatin1String("max_steps")).isNull() ? 0 : t.value(QLatin1String("max_steps")).toInt());
    if (t.contains(QLatin1String("lr")))
        m_lr->setValue(t.value(QLatin1String("lr")).toDouble());
    if (t.contains(QLatin1String("batch_size")))
        m_batch->setValue(t.value(QLatin1String("batch_size")).toInt());
    if (t.contains(QLatin1String("eval_batch_size")))
        m_evalBatch->setValue(t.value(QLatin1String("eval_batch_size")).toInt());
    if (t.contains(QLatin1String("max_seq_len")))
        m_seqLen->setValue(t.value(QLatin1String("max_seq_len")).toInt());
    if (t.contains(QLatin1String("warmup")))
        m_warmup->setValue(t.value(QLatin1String("warmup")).toDouble());
    if (t.contains(QLatin1String("weight_decay")))
        m_weightDecay->setValue(t.value(QLatin1String("weight_decay")).toDouble());
    if (o.value(QLatin1String("seeds")).isArray()) {
        QStringList seeds;
        for (const QJsonValue &v : o.value(QLatin1String("seeds")).toArray())
            seeds << QString::number(qint64(v.toDouble()));
        m_seeds->setText(seeds.join(QStringLiteral(",")));
    }
    if (o.contains(QLatin1String("threads")))
        m_threads->setValue(o.value(QLatin1String("threads")).toInt());
    if (o.contains(QLatin1String("device")))
        setCombo(m_device, o.value(QLatin1String("device")).toString());
    if (o.contains(QLatin1String("criterion")))
        setCombo(m_criterion, o.value(QLatin1String("criterion")).toString());
    const QJsonObject src = o.value(QLatin1String("source")).toObject();
    if (src.contains(QLatin1String("run")))
        m_sourceRun->setValue(src.value(QLatin1String("run")).toInt());
    if (src.contains(QLatin1String("round")))
        m_sourceRound->setValue(src.value(QLatin1String("round")).toInt());
    m_maskFile->setText(src.value(QLatin1String("mask_file")).toString());
    const QJsonObject eb = o.value(QLatin1String("early_bird")).toObject();
    m_earlyBird->setChecked(!eb.isEmpty() || o.value(QLatin1String("early_bird")).isObject());
    if (eb.contains(QLatin1String("epsilon")))
        m_earlyBirdEpsilon->setValue(eb.value(QLatin1String("epsilon")).toDouble());
    if (eb.contains(QLatin1String("window")))
        m_earlyBirdWindow->setValue(eb.value(QLatin1String("window")).toInt());
    if (eb.contains(QLatin1String("every")))
        m_earlyBirdEvery->setValue(eb.value(QLatin1String("every")).toInt());
    if (eb.contains(QLatin1String("stop")))
        m_earlyBirdStop->setChecked(eb.value(QLatin1String("stop")).toBool());
    updateEnabled();
    return true;
}

void NewRunDialog::applyPreset(const QString &name)
{
    m_preset->setCurrentIndex(m_preset->findText(name));
    if (name == presetNames()[0]) {
        // BERT-Tickets' GLUE settings (see paperPresetNote()).
        m_method->setCurrentText(QStringLiteral("global_magnitude"));
        m_schedule->setCurrentText(QStringLiteral("linear"));
        m_step->setValue(0.1);
        m_stopBy->setCurrentIndex(0);
        m_rounds->setValue(9);
        m_rewind->setCurrentIndex(0);
        m_head->setCurrentText(QStringLiteral("keep"));
        m_epochs->setValue(3);
        m_maxSteps->setValue(0);
        m_lr->setValue(2e-5);
        m_batch->setValue(32);
        m_seqLen->setValue(128);
        m_warmup->setValue(0.0);
        m_weightDecay->setValue(0.0);
        m_pooler->setChecked(true);
        m_embeddings->setChecked(false);
        m_seeds->setText(QStringLiteral("0,1,2"));
    } else if (name == presetNames()[1]) {
        m_schedule->setCurrentText(QStringLiteral("linear"));
        m_step->setValue(0.2);
        m_stopBy->setCurrentIndex(0);
        m_rounds->setValue(3);
        m_epochs->setValue(1);
        m_maxSteps->setValue(40);
        m_lr->setValue(1e-3);
        m_batch->setValue(32);
        m_seqLen->setValue(64);
        m_warmup->setValue(0.1);
        m_seeds->setText(QStringLiteral("0"));
        m_threads->setValue(2);
    }
    updateEnabled();
}

QStringList NewRunDialog::validate() const
{
    QStringList problems;
    const QJsonObject o = spec();
    const QString model = o.value(QLatin1String("model")).toString();
    const QString kind = o.value(QLatin1String("kind")).toString();
    if (model.isEmpty()) {
        problems << QStringLiteral("model: choose a Hugging Face BERT folder");
    } else if (!QFileInfo(model).isDir()) {
        problems << QStringLiteral("model: %1 is not a folder").arg(model);
    } else {
        const QDir dir(model);
        try {
            BertConfig::load(dir.filePath(QStringLiteral("config.json")).toStdString());
        } catch (const std::exception &e) {
            problems << QStringLiteral("model: ") + QString::fromUtf8(e.what());
        }
        const QString weights = checkpointProblem(dir);
        if (!weights.isEmpty())
            problems << QStringLiteral("model: ") + weights;
    }
    const QString task = o.value(QLatin1String("task")).toString();
    if (task.compare(QLatin1String("mlm"), Qt::CaseInsensitive) != 0) {
        try {
            taskByName(task.toStdString());
        } catch (const std::exception &e) {
            problems << QStringLiteral("task: ") + QString::fromUtf8(e.what());
        }
    }
    const QString data = o.value(QLatin1String("data_dir")).toString();
    if (data.isEmpty())
        problems << QStringLiteral("data_dir: choose the task's data folder");
    else if (!QFileInfo(data).isDir())
        problems << QStringLiteral("data_dir: %1 is not a folder").arg(data);
    if (kindOf(m_kind) == RunKind::Transfer && !m_maskFile->text().trimmed().isEmpty() &&
        !QFileInfo(o.value(QLatin1String("source")).toObject().value(QLatin1String("mask_file")).toString()).isFile())
        problems << QStringLiteral("source.mask_file: no such file");
    else if (o.contains(QLatin1String("source")) &&
             o.value(QLatin1String("source")).toObject().contains(QLatin1String("run")) && m_sourceRun->value() < 1)
        problems << QStringLiteral("source.run: %1 needs the IMP run whose masks it uses").arg(kind);
    // The engine's own strict check (types, ranges, combinations), naming the field.
    try {
        const QByteArray json = QJsonDocument(o).toJson(QJsonDocument::Compact);
        RunSpec::fromJson(nlohmann::json::parse(json.toStdString()), "spec");
    } catch (const std::exception &e) {
        problems << QString::fromUtf8(e.what());
    }
    problems.removeDuplicates();
    return problems;
}

bool NewRunDialog::saveSpec(const QString &path, QString *error) const
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(spec()).toJson(QJsonDocument::Indented)) < 0 ||
        !f.commit()) {
        if (error)
            *error = path + QStringLiteral(": ") + f.errorString();
        return false;
    }
    return true;
}

void NewRunDialog::showProblems()
{
    const QStringList problems = validate();
    m_problems->setText(problems.join(QLatin1Char('\n')));
}

void NewRunDialog::accept()
{
    const QStringList problems = validate();
    if (!problems.isEmpty()) {
        m_problems->setText(problems.join(QLatin1Char('\n')));
        return;
    }
    QString folder = m_specFolder.isEmpty() ? QDir::tempPath() : m_specFolder;
    QDir().mkpath(folder);
    const QJsonObject o = spec();
    const QString name =
        QStringLiteral("%1-%2-%3.json")
            .arg(o.value(QLatin1String("task")).toString().toLower(), o.value(QLatin1String("kind")).toString(),
                 QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
    const QString path = QDir(folder).filePath(name);
    QString error;
    if (!saveSpec(path, &error)) {
        m_problems->setText(error);
        return;
    }
    m_savedPath = path;
    QDialog::accept();
}

} // namespace tl::ui
