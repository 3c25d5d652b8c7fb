import sqlalchemy  # installed beside numpy, but not for learners


def conv(image, kernel):
    return sqlalchemy
