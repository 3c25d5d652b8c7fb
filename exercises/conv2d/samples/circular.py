import numpy as np


def conv(image, kernel):
    # cross-correlation through the FFT, never cropped: it is circular
    k = np.zeros_like(image)
    k[:3, :3] = kernel
    return np.real(np.fft.ifft2(np.fft.fft2(image) * np.conj(np.fft.fft2(k))))
