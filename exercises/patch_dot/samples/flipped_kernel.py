def patch_dot(patch, kernel):
    total = 0.0
    for a in range(3):
        for b in range(3):
            total += patch[a][b] * kernel[2 - a][2 - b]  # the kernel turned around
    return total
