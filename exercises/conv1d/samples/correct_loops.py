def conv1d(signal, kernel):
    n, p = len(signal), len(kernel)
    return [sum(signal[i + a] * kernel[a] for a in range(p)) for i in range(n - p + 1)]
