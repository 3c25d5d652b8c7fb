def conv1d(signal, kernel):
    p = len(kernel)
    centre = p // 2
    out = []
    for i in range(len(signal) - p + 1):
        acc = 0.0
        for a in range(p):
            acc += signal[i + a - centre] * kernel[a]    # centred window
        out.append(acc)
    return out
