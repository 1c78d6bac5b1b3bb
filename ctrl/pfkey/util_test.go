package pfkey

import (
	"fmt"
	"reflect"
	"strings"
)

// dump renders a Msg with its pointers followed, for failure messages.
func dump(m *Msg) string {
	var b strings.Builder
	v := reflect.ValueOf(m).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				continue
			}
			f = f.Elem()
		}
		if f.Kind() == reflect.Slice && f.Len() == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s:%+v ", v.Type().Field(i).Name, f.Interface())
	}
	return b.String()
}
