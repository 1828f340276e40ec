package config

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
)

// TestDecodeReadsEveryField sets every field of Config (by reflection, so a
// field added later is set too), writes it with encoding/json, which follows
// the struct tags, and reads it back with the hand-written decoder: a field
// the decoder does not know is an unknown key, one it reads into the wrong
// place is a difference.
// fullDocument is a config with every field set, and its JSON.
func fullDocument(t *testing.T) (Config, []byte) {
	t.Helper()
	var c Config
	fill(t, reflect.ValueOf(&c).Elem(), "Config")
	doc, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	return c, doc
}

func TestDecodeReadsEveryField(t *testing.T) {
	want, doc := fullDocument(t)
	var got Config
	if err := decode(doc, &got); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back differs:\n got %+v\nwant %+v\n from %s", got, want, doc)
	}
}

var (
	durationType = reflect.TypeFor[Duration]()
	sourceType   = reflect.TypeFor[Source]()
)

// fill gives v a value that is not zero and that JSON carries exactly.
func fill(t *testing.T, v reflect.Value, path string) {
	switch {
	case v.Type() == durationType:
		v.Set(reflect.ValueOf(Duration(90 * time.Minute)))
		return
	case v.Type() == sourceType:
		v.Set(reflect.ValueOf(Source{Kind: SourceControlPlaneOutbound, Provider: "aws", Region: "us-east-1"}))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				continue // not configuration (the kinds it was checked against)
			}
			fill(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(t, v.Index(0), path+"[0]")
		fill(t, v.Index(1), path+"[1]")
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		e := reflect.New(v.Type().Elem()).Elem()
		fill(t, e, path+"[k]")
		v.SetMapIndex(reflect.ValueOf(kmspolicy.Type), e)
	case reflect.String:
		v.SetString(path)
	case reflect.Int:
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(12.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), path)
	default:
		t.Fatalf("%s: fill does not know %s; teach it and the decoder", path, v.Type())
	}
}
