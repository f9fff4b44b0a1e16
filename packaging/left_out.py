"""PyInstaller runtime hook: stand-ins for two libraries the bundle leaves out.

faster-whisper imports both when it is imported, but uses them only in functions
CallCoach never calls:
- PyAV (`av`) in `decode_audio()`: CallCoach reads audio with soundfile. PyAV and its
  FFmpeg libraries are about 100 MB.
- huggingface_hub in `download_model()`: CallCoach loads its model from a folder and never
  downloads. Without the hub library (and the HTTP stack it brings) the bundle has no code
  that could fetch a model.
"""

import sys
import types


class _LeftOut(types.ModuleType):
    def __getattr__(self, name):
        raise AttributeError(f"{self.__name__}.{name}: {self.__name__} is not part of the CallCoach bundle")


for _name in ("av", "huggingface_hub"):
    sys.modules.setdefault(_name, _LeftOut(_name))
