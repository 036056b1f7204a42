// The control for result_from_ok.cc: the same shape with a real failure
// code compiles, so that test fails for the reason it names.
#include "ringlet/result.h"

ringlet::Result<int> fine() { return ringlet::Error::NotFound; }

int main() { return fine().ok() ? 1 : 0; }
