

def convolve(image, kernel):
    return image


def helper(x):
    return x
