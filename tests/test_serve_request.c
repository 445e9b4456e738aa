#include "testlib.h"
int main(void){return test_finish("test_serve_request");}
