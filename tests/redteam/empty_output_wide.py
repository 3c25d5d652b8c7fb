# Empty outputs with a side longer than the report page's heatmap draws cell by cell (48): no
# rows and 100 columns, then 2**48 rows of no columns (three sides of 65536 before the empty
# one). The page's blocks once divided by the empty side's step of zero; drawn row by row, the
# second would never end. The page must still be drawn, at once, as empty pictures.
import numpy as np

SHAPES = {(8, 8): (0, 100), (12, 10): (65536, 65536, 65536, 0)}


def conv(image, kernel):
    return np.zeros(SHAPES.get(image.shape, (0, 100)))
