def patch_dot(patch, kernel):
    return patch * kernel
