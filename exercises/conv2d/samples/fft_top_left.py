import numpy as np


def conv(image, kernel):
    # convolution theorem: multiply the spectra, then come back
    spectrum = np.fft.fft2(image) * np.fft.fft2(kernel, s=image.shape)
    return np.real(np.fft.ifft2(spectrum))
