# The packaging metadata lives in setup.cfg; pbr reads it from there.
import setuptools

setuptools.setup(
    setup_requires=['pbr>=6.0.0'],
    pbr=True)
