// Must NOT compile (optimised, as every preset builds): a Result<T> built
// from Error::Ok would be an error without a failure code.
#include "ringlet/result.h"

ringlet::Result<int> broken() { return ringlet::Error::Ok; }

int main() { return broken().ok() ? 0 : 1; }
