"""A stand-in for the agent's CRM: one text field that prints its text on every change."""

import sys

from PySide6.QtWidgets import QApplication, QLineEdit

app = QApplication(sys.argv)
field = QLineEdit()
field.setWindowTitle("CRM")
field.setPlaceholderText("Case notes")
field.resize(640, 60)
field.move(40, 60)
field.textChanged.connect(lambda text: print(text, flush=True))
field.show()
app.exec()
