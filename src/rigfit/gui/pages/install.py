"""Install: per-file and total progress with speed and time left, a log, cancel and resume.

The work runs on a ``Job``; a cancelled or failed run keeps what it finished and its partial data, and
"Resume" starts the same install again, which skips verified files and continues partial ones.
"""

from __future__ import annotations

from rigfit.gui.pages.widgets import gb, show_error, wrapped
from rigfit.gui.qt import (
    QFont,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)
from rigfit.gui.views import InstallResult, Progress, Question
from rigfit.gui.wizard import Session
from rigfit.gui.worker import Job, format_duration

STEPS = 1000  # progress bars count in thousandths: byte counts overflow a QProgressBar's int


def set_bar(bar: QProgressBar, done: int, total: int | None) -> None:
    if not total:
        bar.setValue(0 if not done else STEPS)
        bar.setFormat(gb(done))
        return
    fraction = min(1.0, done / total)
    bar.setValue(int(fraction * STEPS))
    bar.setFormat(f"{fraction * 100:.0f} % · {gb(done)} of {gb(total)}")


class InstallPage(QWizardPage):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.job: Job | None = None
        self.result: InstallResult | None = None
        self.setTitle("Installing")
        self.setSubTitle("You can cancel at any time; Resume continues where it stopped.")
        layout = QVBoxLayout(self)
        self.file_label = QLabel("Waiting…", self)
        self.file_label.setObjectName("fileLabel")
        self.file_bar = QProgressBar(self)
        self.file_bar.setObjectName("fileBar")
        self.total_label = QLabel("Total", self)
        self.total_bar = QProgressBar(self)
        self.total_bar.setObjectName("totalBar")
        for bar in (self.file_bar, self.total_bar):
            bar.setRange(0, STEPS)
            bar.setValue(0)
            bar.setTextVisible(True)
        self.speed = QLabel("", self)
        self.speed.setObjectName("speedText")
        layout.addWidget(self.file_label)
        layout.addWidget(self.file_bar)
        layout.addWidget(self.total_label)
        layout.addWidget(self.total_bar)
        layout.addWidget(self.speed)
        self.log = QPlainTextEdit(self)
        self.log.setObjectName("log")
        self.log.setReadOnly(True)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.log.setFont(mono)
        layout.addWidget(self.log, 1)
        self.outcome = wrapped("", self)
        self.outcome.setObjectName("outcome")
        layout.addWidget(self.outcome)
        buttons = QHBoxLayout()
        self.cancel_button = QPushButton("Ca&ncel install", self)
        self.cancel_button.setObjectName("cancelInstall")
        self.resume_button = QPushButton("&Resume", self)
        self.resume_button.setObjectName("resumeInstall")
        self.resume_button.setEnabled(False)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.resume_button)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button.clicked.connect(self.start)

    def initializePage(self) -> None:
        if self.result is None and self.job is None:
            self.start()

    def isComplete(self) -> bool:
        return self.result is not None and not self.result.cancelled and self.job is None

    def start(self) -> None:
        plan = self.session.plan
        assert plan is not None
        services, comfyui, models = self.session.services, self.session.comfyui_dir, self.session.models_dir
        steps = self.session.steps
        self.result = None
        self.outcome.setText("")
        self.log.appendPlainText(f"Installing into {comfyui}")
        job = Job(lambda emit, cancel: services.install(plan, comfyui, models, emit, cancel, steps))
        job.progress.connect(self._progress)
        job.question.connect(self._ask)
        job.succeeded.connect(self._done)
        job.failed.connect(self._failed)
        self.job = job
        self.cancel_button.setEnabled(True)
        self.resume_button.setEnabled(False)
        self.completeChanged.emit()
        job.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.log.appendPlainText("Cancelling…")
            self.cancel_button.setEnabled(False)
            self.job.cancel()

    def _progress(self, event: object) -> None:
        assert isinstance(event, Progress)
        if event.message:
            self.log.appendPlainText(event.message)
        if event.file is not None:
            self.file_label.setText(event.file)
            set_bar(self.file_bar, event.file_done, event.file_total)
        if event.total is not None or event.done:
            set_bar(self.total_bar, event.done, event.total)
            if event.speed is not None:
                self.speed.setText(f"{gb(int(event.speed))}/s · {format_duration(event.eta_s)} left")

    def _ask(self, question: object) -> None:
        assert isinstance(question, Question)
        box = QMessageBox(QMessageBox.Icon.Question, question.title, question.text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("installScriptQuestion")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(lambda code: question.reply(code == QMessageBox.StandardButton.Yes.value))
        box.open()

    def _finish_job(self) -> None:
        if self.job is not None:
            self.job.wait()  # it has emitted its result; let its thread return
            self.job = None

    def _done(self, result: object) -> None:
        assert isinstance(result, InstallResult)
        self._finish_job()
        self.result = result
        self.outcome.setText(result.message)
        self.log.appendPlainText(result.message)
        self.cancel_button.setEnabled(False)
        self.resume_button.setEnabled(result.cancelled)
        if not result.cancelled:
            set_bar(self.total_bar, result.total_bytes, result.total_bytes)
            self.speed.setText("")
        self.completeChanged.emit()

    def _failed(self, message: str, details: str) -> None:
        self._finish_job()
        self.log.appendPlainText("error: " + message)
        self.outcome.setText("The install stopped: " + message + " — Resume tries again.")
        self.cancel_button.setEnabled(False)
        self.resume_button.setEnabled(True)
        show_error(self, message, details)
        self.completeChanged.emit()
