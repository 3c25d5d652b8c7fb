def conv(image, kernel):
    rows, cols = len(image), len(image[0])
    out = []
    for i in range(rows - 2):
        row = []
        for j in range(cols - 2):
            total = 0.0
            for a in range(3):
                for b in range(3):
                    total += float(image[i + a][j + b]) * float(kernel[a][b])
            row.append(total)
        out.append(row)
    return out
